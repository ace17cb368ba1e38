package metadata

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"kumo/internal/clock"
	"kumo/internal/netns"
)

// TestListenServesGuestsAtTheWellKnownAddress builds a host namespace and
// a guest namespace joined by a veth pair, as a bridge joins a tap, and
// checks that the guest reaches the service at 169.254.169.254 and is told
// its own identity.
func TestListenServesGuestsAtTheWellKnownAddress(t *testing.T) {
	host := fmt.Sprintf("kumo-md-host-%d", os.Getpid())
	guest := fmt.Sprintf("kumo-md-guest-%d", os.Getpid())
	for _, ns := range []string{host, guest} {
		run(t, "ip", "netns", "add", ns)
		t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
		run(t, "ip", "-n", ns, "link", "set", "lo", "up")
	}
	run(t, "ip", "-n", host, "link", "add", "mdh0", "type", "veth", "peer", "name", "mdg0", "netns", guest)
	run(t, "ip", "-n", host, "addr", "add", "10.79.0.1/24", "dev", "mdh0")
	run(t, "ip", "-n", host, "link", "set", "mdh0", "up")
	run(t, "ip", "-n", guest, "addr", "add", "10.79.0.2/24", "dev", "mdg0")
	run(t, "ip", "-n", guest, "link", "set", "mdg0", "up")
	run(t, "ip", "-n", guest, "route", "add", "default", "via", "10.79.0.1")

	lookup := func(ctx context.Context, ip netip.Addr) (Instance, error) {
		if ip.String() == "10.79.0.2" {
			return Instance{ID: "i-0aaaaaaaaaaaaaaaa"}, nil
		}
		return Instance{}, ErrUnknownAddress
	}
	for round := 0; round < 2; round++ { // a second Listen, as after a restart
		ln, err := Listen(host, "mdh0", "10.79.0.1")
		if err != nil {
			t.Fatal(err)
		}
		srv := &http.Server{Handler: New(lookup, clock.Real{})}
		go srv.Serve(ln)
		client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{DialContext: netns.Dialer(guest)}}
		resp, err := client.Get("http://" + Address + "/latest/meta-data/instance-id")
		if err != nil {
			srv.Close()
			t.Fatalf("guest request: %v", err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		srv.Close()
		if string(body) != "i-0aaaaaaaaaaaaaaaa" {
			t.Fatalf("guest was told %q", body)
		}
	}
	rules, err := exec.Command("ip", "netns", "exec", host, "iptables", "-w", "-t", "nat", "-S", "PREROUTING").CombinedOutput()
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(string(rules), Address); n != 1 {
		t.Fatalf("%d redirect rules after two starts, want 1:\n%s", n, rules)
	}
}

func run(t *testing.T, argv ...string) {
	t.Helper()
	if out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput(); err != nil {
		t.Fatalf("%s: %v %s", strings.Join(argv, " "), err, out)
	}
}
