package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"kumo/api/wire"
	"kumo/devcluster"
	"kumo/internal/e2e"
)

// hostMemoryMiB is what each simulated host offers: room for three
// t2.micro or six t2.nano, so that twelve instances need three hosts.
const hostMemoryMiB = 3072

// TestDevCluster runs kumod over three simulated hosts with real guests,
// the local host drained: launches pack onto the fullest host that fits
// (binpack), a drained host takes no more, a host whose libvirtd dies is
// marked down while the others keep working, and returns.
func TestDevCluster(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	root, err := os.MkdirTemp("", "kumo-e2e-cluster-")
	if err != nil {
		t.Fatal(err)
	}
	cluster := devcluster.New(devcluster.Options{Prefix: "kumo-e2e-h", RunRoot: filepath.Join(root, "run"),
		StateRoot: filepath.Join(root, "state"), Network: e2e.TestNetwork.Name}, testLog{t})
	t.Cleanup(func() {
		if err := cluster.Down(context.Background()); err != nil {
			t.Errorf("dev cluster down: %v", err)
		}
		os.RemoveAll(root)
	})
	devHosts, err := cluster.Up(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}

	c := e2e.Start(t, "--warm-types=")
	reserved := reportedMemoryMiB(t, c, devHosts[0]) - hostMemoryMiB
	for _, h := range devHosts {
		c.MustCLI("hosts", "add", "--name", h.Name, "--uri", h.URI, "--zone", "local-a", "--netns", h.Netns,
			"--reserved-memory-mib", strconv.FormatInt(reserved, 10))
	}
	for _, h := range devHosts {
		waitHealth(t, c, h.Name, "up")
	}
	c.MustCLI("hosts", "drain", "local")

	// Binpack: each launch goes whole to the fullest host it fits on.
	micro := c.Run("--image", "kumo-tiny", "--type", "t2.micro", "--count", "3", "--name", "micro")
	nano := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--count", "4", "--name", "nano")
	hostOf := func(ins []e2e.Instance) string {
		t.Helper()
		host := ins[0].Host
		for _, in := range ins {
			if in.Host != host {
				t.Fatalf("one launch spread over %s and %s", host, in.Host)
			}
		}
		return host
	}
	full, partial := hostOf(micro), hostOf(nano)
	if full == partial || full == "local" || partial == "local" {
		t.Fatalf("3 t2.micro on %s, 4 t2.nano on %s: want two different simulated hosts", full, partial)
	}
	// Drained, the partly used host takes no more, though it is the
	// fullest that fits.
	c.MustCLI("hosts", "drain", partial)
	more := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--count", "2", "--name", "more")
	// Guests of a simulated host read their user data from the metadata
	// service kumod runs on that host's network.
	userData := filepath.Join(t.TempDir(), "ud.sh")
	os.WriteFile(userData, []byte("#!/bin/sh\necho from-the-host-metadata > /www/ud\n"), 0o644)
	last := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--count", "3", "--name", "last", "--user-data", userData)
	third := hostOf(more)
	if third == partial || third == full || third == "local" || hostOf(last) != third {
		t.Fatalf("with %s full and %s drained, launches went to %s and %s", full, partial, third, hostOf(last))
	}
	all := append(append(append(micro, nano...), more...), last...)
	used := map[string]int64{}
	for _, h := range hostList(t, c) {
		used[h.Name] = h.Used.MemoryMiB
		if h.Used.MemoryMiB > h.Capacity.MemoryMiB {
			t.Errorf("%s is booked past its capacity: %+v", h.Name, h)
		}
	}
	if used[full] != 3072 || used[partial] != 2048 || used[third] != 2560 || used["local"] != 0 {
		t.Fatalf("memory used by host: %v", used)
	}

	// Every guest is a real one, on its host's network, reached from the
	// data plane through the host's uplink.
	for _, in := range all {
		c.WaitState(in.ID, "running", 3*time.Minute)
	}
	for _, in := range all {
		wctx, wcancel := context.WithTimeout(ctx, 3*time.Minute)
		err := e2e.WaitHTTP(wctx, in.PrivateIP, "/", in.ID)
		wcancel()
		if err != nil {
			t.Fatalf("%s on %s (%s): %v\n%s", in.ID, in.Host, in.PrivateIP, err, c.MustCLI("console-output", in.ID))
		}
	}

	for _, in := range last {
		wctx, wcancel := context.WithTimeout(ctx, time.Minute)
		err := e2e.WaitHTTP(wctx, in.PrivateIP, "/ud", "from-the-host-metadata")
		wcancel()
		console := c.MustCLI("console-output", in.ID)
		if err != nil || !strings.Contains(console, "running user-data from metadata") {
			t.Fatalf("%s on %s: user data from the host's metadata service: %v\n%s", in.ID, in.Host, err, console)
		}
	}

	// The third host's libvirtd dies: the host goes down, its instances
	// keep their states, and the rest of the cloud works on.
	killLibvirtd(t, root, third)
	waitHealth(t, c, third, "down")
	if got := c.Describe(last[0].ID); got.State.Name != "running" || !got.HostUnreachable {
		t.Errorf("an instance of the host that went down is %s (host unreachable: %v); its state is kept", got.State.Name, got.HostUnreachable)
	}
	c.MustCLI("stop", "--wait", micro[0].ID)
	c.MustCLI("start", "--wait", micro[0].ID)
	if out, err := c.CLI("run", "--image", "kumo-tiny", "--type", "t2.nano"); err == nil || !strings.Contains(err.Error(), "InsufficientInstanceCapacity") {
		t.Fatalf("a launch with every host full, drained or down: %v\n%s", err, out)
	}
	c.MustCLI("hosts", "enable", partial)
	if got := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--name", "after"); hostOf(got) != partial {
		t.Fatalf("enabled again, %s did not take the launch: it went to %s", partial, hostOf(got))
	}

	// It returns: kumod reconnects, and its guests ran on meanwhile.
	if _, err := cluster.Up(ctx, 3); err != nil {
		t.Fatal(err)
	}
	waitHealth(t, c, third, "up")
	if err := e2e.WaitHTTP(ctx, last[0].PrivateIP, "/", last[0].ID); err != nil {
		t.Fatalf("after its host returned, %s: %v", last[0].ID, err)
	}
	c.MustCLI("terminate", last[0].ID)
	c.WaitState(last[0].ID, "terminated", time.Minute)
}

func hostList(t *testing.T, c *e2e.Cloud) []wire.Host {
	t.Helper()
	var out wire.Hosts
	if err := json.Unmarshal([]byte(c.MustCLI("hosts", "ls", "--json")), &out); err != nil {
		t.Fatal(err)
	}
	return out.Hosts
}

// waitHealth waits for kumod's health checks to see the host as want.
func waitHealth(t *testing.T, c *e2e.Cloud, name, want string) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		for _, h := range hostList(t, c) {
			if h.Name == name && h.Health == want {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("host %s is not %s after a minute: %+v", name, want, hostList(t, c))
		}
		time.Sleep(500 * time.Millisecond)
	}
}

// reportedMemoryMiB is the memory libvirt reports for a simulated host,
// the machine's as libvirt sees it: the host is registered to read it,
// then removed.
func reportedMemoryMiB(t *testing.T, c *e2e.Cloud, h devcluster.Host) int64 {
	t.Helper()
	c.MustCLI("hosts", "add", "--name", h.Name, "--uri", h.URI, "--zone", "local-a")
	defer c.MustCLI("hosts", "rm", h.Name)
	for _, got := range hostList(t, c) {
		if got.Name == h.Name {
			return got.Reported.MemoryMiB
		}
	}
	t.Fatalf("host %s not listed once added", h.Name)
	return 0
}

// killLibvirtd kills a simulated host's libvirtd, as a crash would; its
// guests run on.
func killLibvirtd(t *testing.T, root, host string) {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, "run", host, "libvirtd.pid"))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Kill(pid, syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
