package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"kumo/internal/e2e"
)

// TestLoadBalancerOverInstances puts three real instances of the default
// image behind one load balancer: requests through it reach all three
// (their bodies name them); a stopped instance leaves rotation at once and
// traffic goes on over the other two; started again, it comes back
// healthy. After kumod restarts, the load balancer listens again.
func TestLoadBalancerOverInstances(t *testing.T) {
	c := e2e.Start(t, "--warm-types=t2.nano")
	c.WaitTemplates(1, 3*time.Minute)
	ins := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--count", "3", "--name", "web")
	ids := make([]string, len(ins))
	for i, in := range ins {
		ids[i] = in.ID
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		err := e2e.WaitHTTP(ctx, in.PrivateIP, "/", in.ID)
		cancel()
		if err != nil {
			t.Fatalf("%s: %v", in.ID, err)
		}
	}

	port := freeLoopbackPort(t)
	c.MustCLI("lb", "create", "--name", "web", "--listen", fmt.Sprintf("%d:80", port),
		"--health-check", "http", "--interval", "2s", "--timeout", "1s",
		"--healthy-threshold", "2", "--unhealthy-threshold", "2", "--deregistration-delay", "0s")
	c.MustCLI(append([]string{"lb", "register", "web"}, ids...)...)
	waitHealthy(t, c, ids...)
	front := fmt.Sprintf("127.0.0.1:%d", port)
	if seen := spread(t, front, 30); len(seen) != 3 {
		t.Fatalf("requests reached %v, want all three instances", seen)
	}

	c.MustCLI("stop", ids[0])
	if st := targetStates(t, c)[ids[0]]; st != "unused" {
		t.Fatalf("stopped instance's target is %q right after the stop call, want unused", st)
	}
	if seen := spread(t, front, 20); len(seen) != 2 || seen[ids[0]] > 0 {
		t.Fatalf("with %s stopped, requests reached %v", ids[0], seen)
	}
	c.WaitState(ids[0], "stopped", 2*time.Minute)
	c.MustCLI("start", "--wait", ids[0])
	waitHealthy(t, c, ids...)
	if seen := spread(t, front, 30); len(seen) != 3 {
		t.Fatalf("after the restart of %s, requests reached %v", ids[0], seen)
	}

	c.Kill9()
	c.Restart()
	waitHealthy(t, c, ids...)
	if seen := spread(t, front, 30); len(seen) != 3 {
		t.Fatalf("after kumod restarted, requests reached %v", seen)
	}
	c.MustCLI("lb", "rm", "web")
	if _, err := net.DialTimeout("tcp", front, time.Second); err == nil {
		t.Fatal("the removed load balancer still listens")
	}
}

func freeLoopbackPort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// targetStates reads the load balancer's target health through the CLI.
func targetStates(t *testing.T, c *e2e.Cloud) map[string]string {
	t.Helper()
	var lb struct {
		Stats struct {
			Targets []struct {
				ID    string `json:"id"`
				State string `json:"state"`
			} `json:"targets"`
		} `json:"stats"`
	}
	if err := json.Unmarshal([]byte(c.MustCLI("--json", "lb", "describe", "web")), &lb); err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, tg := range lb.Stats.Targets {
		out[tg.ID] = tg.State
	}
	return out
}

func waitHealthy(t *testing.T, c *e2e.Cloud, ids ...string) {
	t.Helper()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		st := targetStates(t, c)
		ok := true
		for _, id := range ids {
			ok = ok && st[id] == "healthy"
		}
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("targets not healthy: %v\n%s", st, c.MustCLI("lb", "describe", "web"))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// spread sends n requests through the front address, each on its own
// connection, and counts which instance answered; every request must
// succeed.
func spread(t *testing.T, front string, n int) map[string]int {
	t.Helper()
	client := &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 10 * time.Second}
	seen := map[string]int{}
	for i := 0; i < n; i++ {
		resp, err := client.Get("http://" + front + "/")
		if err != nil {
			t.Fatalf("request %d through the load balancer: %v", i, err)
		}
		body, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			t.Fatalf("request %d: %d %q %v", i, resp.StatusCode, body, err)
		}
		id := ""
		for _, f := range strings.Fields(string(body)) {
			if strings.HasPrefix(f, "i-") {
				id = strings.Trim(f, ".,;:")
			}
		}
		if id == "" {
			t.Fatalf("request %d: body names no instance: %q", i, body)
		}
		seen[id]++
	}
	return seen
}
