package loadbalancer

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"testing"
	"time"

	"kumo/internal/clock"
	"kumo/internal/errs"
)

// These tests run the data path for real on loopback, with plain Go
// servers as targets.

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// backend is an HTTP server whose body is its name.
type backend struct {
	name string
	addr netip.AddrPort
	srv  *http.Server
}

func startBackend(t *testing.T, name string, h http.Handler) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if h == nil {
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })
	}
	b := &backend{name: name, addr: ln.Addr().(*net.TCPAddr).AddrPort(), srv: &http.Server{Handler: h}}
	go b.srv.Serve(ln)
	t.Cleanup(func() { b.srv.Close() })
	return b
}

func (b *backend) target() Target {
	return Target{ID: b.addr.String(), Addr: b.addr.Addr(), Port: int(b.addr.Port())}
}

// fastChecks probes every second and decides after two results.
var fastChecks = HealthCheck{Protocol: "HTTP", Interval: time.Second, Timeout: 500 * time.Millisecond, HealthyThreshold: 2, UnhealthyThreshold: 2}

func startLB(t *testing.T, cfg Config, clk clock.Clock, targets ...Target) (*Balancer, string) {
	t.Helper()
	if len(cfg.Listeners) == 0 {
		cfg.Listeners = []Listener{{Port: freePort(t), TargetPort: 80}}
	}
	b, err := New(cfg, clk, quiet())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(b.Close)
	for _, tg := range targets {
		if err := b.Register(tg); err != nil {
			t.Fatal(err)
		}
	}
	return b, fmt.Sprintf("127.0.0.1:%d", cfg.Listeners[0].Port)
}

var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

func get(addr string) (string, error) {
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", within, what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func countIn(b *Balancer, state Health) int {
	n := 0
	for _, ts := range b.Stats().Targets {
		if ts.State == state {
			n++
		}
	}
	return n
}

func TestRoundRobinSpreadsEvenly(t *testing.T) {
	var ts []Target
	for _, n := range []string{"a", "b", "c"} {
		ts = append(ts, startBackend(t, n, nil).target())
	}
	lb, addr := startLB(t, Config{Health: fastChecks}, clock.Real{}, ts...)
	eventually(t, 5*time.Second, "three healthy targets", func() bool { return countIn(lb, Healthy) == 3 })
	counts := map[string]int{}
	for i := 0; i < 30; i++ {
		body, err := get(addr)
		if err != nil {
			t.Fatal(err)
		}
		counts[body]++
	}
	if counts["a"] != 10 || counts["b"] != 10 || counts["c"] != 10 {
		t.Fatalf("counts %v, want 10 each", counts)
	}
	st := lb.Stats()
	if st.NewConnections != 30 || st.BytesOut == 0 || st.BytesIn == 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLeastConnectionsAvoidsTheBusyTarget(t *testing.T) {
	release := make(chan struct{})
	slow := startBackend(t, "slow", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/" && r.Header.Get("User-Agent") != "kumo-health-check" {
			<-release
		}
		io.WriteString(w, "slow")
	}))
	fast := startBackend(t, "fast", nil)
	lb, addr := startLB(t, Config{Health: fastChecks, Algorithm: LeastConnections}, clock.Real{}, slow.target(), fast.target())
	defer close(release)
	eventually(t, 5*time.Second, "two healthy targets", func() bool { return countIn(lb, Healthy) == 2 })
	// Park a request on the slow target (the fast one answers the others
	// at once); then every new request must go to the fast one, where
	// round robin would send every other one to the slow target.
	for i := 0; lb.Stats().Targets[0].ActiveConnections < 1; i++ {
		if i == 100 {
			t.Fatalf("slow target never busy: %+v", lb.Stats().Targets)
		}
		go get(addr)
		time.Sleep(20 * time.Millisecond)
	}
	for i := 0; i < 10; i++ {
		// The proxy closes its side of the previous request a moment
		// after the client has the answer; until then the two targets tie.
		eventually(t, 5*time.Second, "previous request closed", func() bool { return lb.Stats().Targets[1].ActiveConnections == 0 })
		if body, err := get(addr); err != nil || body != "fast" {
			t.Fatalf("request %d: %q %v", i, body, err)
		}
	}
}

func TestKilledTargetLeavesRotationAndNoRequestFails(t *testing.T) {
	a := startBackend(t, "a", nil)
	victim := startBackend(t, "b", nil)
	lb, addr := startLB(t, Config{Health: fastChecks}, clock.Real{}, a.target(), victim.target())
	eventually(t, 5*time.Second, "two healthy targets", func() bool { return countIn(lb, Healthy) == 2 })
	victim.srv.Close()
	killed := time.Now()
	// Before the checks notice, a refused connection is retried on the
	// next target, so clients see no failure at any point.
	for countIn(lb, Unhealthy) == 0 {
		if time.Since(killed) > 4*time.Second {
			t.Fatalf("killed target still %s after %v", lb.Stats().Targets[1].State, time.Since(killed))
		}
		if body, err := get(addr); err != nil || body != "a" {
			t.Fatalf("request while the target was dying: %q %v", body, err)
		}
	}
	t.Logf("unhealthy %v after the kill (interval 1 s, threshold 2)", time.Since(killed).Round(10*time.Millisecond))
	errsBefore := lb.Stats().Targets[1].ConnectErrors
	for i := 0; i < 20; i++ {
		if body, err := get(addr); err != nil || body != "a" {
			t.Fatalf("request %d: %q %v", i, body, err)
		}
	}
	if after := lb.Stats().Targets[1].ConnectErrors; after != errsBefore {
		t.Fatalf("the unhealthy target was still tried: connect errors %d -> %d", errsBefore, after)
	}
	tg := lb.Stats().Targets[1]
	if tg.Reason != ReasonFailedChecks || tg.HealthChanges != 2 {
		t.Fatalf("unhealthy target: %+v", tg)
	}
}

// streamer sends n lines, one per tick, then ends.
func streamer(n int, tick time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("User-Agent") == "kumo-health-check" {
			return
		}
		for i := 0; i < n; i++ {
			fmt.Fprintf(w, "line %d\n", i)
			w.(http.Flusher).Flush()
			time.Sleep(tick)
		}
	})
}

func TestDrainingLetsAnOpenTransferFinish(t *testing.T) {
	long := startBackend(t, "long", streamer(10, 150*time.Millisecond))
	other := startBackend(t, "other", nil)
	lb, addr := startLB(t, Config{Health: fastChecks, DeregistrationDelay: DefaultDeregistrationDelay}, clock.Real{}, long.target())
	eventually(t, 5*time.Second, "healthy", func() bool { return countIn(lb, Healthy) == 1 })

	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	r := bufio.NewReader(resp.Body)
	if line, err := r.ReadString('\n'); err != nil || line != "line 0\n" {
		t.Fatalf("first line %q %v", line, err)
	}
	if err := lb.Register(other.target()); err != nil {
		t.Fatal(err)
	}
	if err := lb.Deregister(long.target().ID); err != nil {
		t.Fatal(err)
	}
	if st := lb.Stats().Targets[0]; st.State != Draining || st.Reason != ReasonDeregistering {
		t.Fatalf("deregistered target: %+v", st)
	}
	for i := 0; i < 5; i++ {
		if body, err := get(addr); err != nil || body != "other" {
			t.Fatalf("new connection during draining: %q %v", body, err)
		}
	}
	rest, err := io.ReadAll(r)
	if err != nil || strings.Count(string(rest), "\n") != 9 {
		t.Fatalf("the draining transfer was cut: %q %v", rest, err)
	}
	eventually(t, 3*time.Second, "drained target removed", func() bool { return len(lb.Stats().Targets) == 1 })
}

func TestDrainingEndsAtTheDeregistrationDelay(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	long := startBackend(t, "long", streamer(1000, 20*time.Millisecond))
	lb, addr := startLB(t, Config{Health: fastChecks, DeregistrationDelay: 30 * time.Second}, clk, long.target())
	eventually(t, 5*time.Second, "healthy", func() bool { return countIn(lb, Healthy) == 1 })
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if err := lb.Deregister(long.target().ID); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { _, err := io.Copy(io.Discard, resp.Body); done <- err }()
	clk.Advance(29 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("transfer ended before the delay: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	advanceUntil(t, clk, done)
	if len(lb.Stats().Targets) != 0 {
		t.Fatalf("target still registered: %+v", lb.Stats().Targets)
	}
}

// advanceUntil moves the fake clock a second at a time until done fires.
func advanceUntil(t *testing.T, clk *clock.Fake, done <-chan error) {
	t.Helper()
	for i := 0; i < 100; i++ {
		clk.Advance(time.Second)
		select {
		case <-done:
			return
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatal("connection still open")
}

func TestIdleConnectionsAreClosed(t *testing.T) {
	clk := clock.NewFake(time.Unix(1000, 0))
	be := startBackend(t, "a", nil)
	lb, addr := startLB(t, Config{Health: fastChecks, IdleTimeout: 10 * time.Second}, clk, be.target())
	eventually(t, 5*time.Second, "healthy", func() bool { return countIn(lb, Healthy) == 1 })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	eventually(t, 5*time.Second, "connection relayed", func() bool { return lb.Stats().ActiveConnections == 1 })
	done := make(chan error, 1)
	go func() { _, err := c.Read(make([]byte, 1)); done <- err }()
	clk.Advance(5 * time.Second)
	select {
	case err := <-done:
		t.Fatalf("closed before the idle timeout: %v", err)
	case <-time.After(300 * time.Millisecond):
	}
	advanceUntil(t, clk, done)
}

// TestHalfCloseKeepsTheOtherDirection sends a request, closes its write
// side, and still reads the answer the target writes after seeing the end.
func TestHalfCloseKeepsTheOtherDirection(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				n, _ := io.Copy(io.Discard, c)
				fmt.Fprintf(c, "got %d bytes", n)
			}()
		}
	}()
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	tg := Target{ID: ap.String(), Addr: ap.Addr(), Port: int(ap.Port())}
	lb, addr := startLB(t, Config{Health: HealthCheck{Protocol: "TCP", Interval: time.Second, Timeout: 500 * time.Millisecond}}, clock.Real{}, tg)
	eventually(t, 5*time.Second, "healthy", func() bool { return countIn(lb, Healthy) == 1 })
	for _, size := range []int{5, 1 << 20} { // a message, and a bulk transfer that splices
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := c.Write(make([]byte, size)); err != nil {
			t.Fatal(err)
		}
		c.(*net.TCPConn).CloseWrite()
		c.SetReadDeadline(time.Now().Add(5 * time.Second))
		answer, err := io.ReadAll(c)
		c.Close()
		if want := fmt.Sprintf("got %d bytes", size); err != nil || string(answer) != want {
			t.Fatalf("answer %q %v, want %q", answer, err, want)
		}
	}
}

func TestProxyProtocolV2TellsTheClientAddress(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	headers := make(chan []byte, 10)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			h := make([]byte, 28)
			if _, err := io.ReadFull(c, h); err == nil {
				headers <- h
			}
			c.Close()
		}
	}()
	ap := ln.Addr().(*net.TCPAddr).AddrPort()
	tg := Target{ID: ap.String(), Addr: ap.Addr(), Port: int(ap.Port())}
	lb, addr := startLB(t, Config{ProxyProtocol: true, Health: HealthCheck{Protocol: "TCP", Interval: time.Second, Timeout: 500 * time.Millisecond}}, clock.Real{}, tg)
	eventually(t, 5*time.Second, "healthy", func() bool { return countIn(lb, Healthy) == 1 })
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write([]byte("x"))
	h := <-headers
	local := c.LocalAddr().(*net.TCPAddr)
	want := append([]byte("\r\n\r\n\x00\r\nQUIT\n\x21\x11\x00\x0c"), 127, 0, 0, 1, 127, 0, 0, 1,
		byte(local.Port>>8), byte(local.Port), byte(lb.Config().Listeners[0].Port>>8), byte(lb.Config().Listeners[0].Port))
	if string(h) != string(want) {
		t.Fatalf("header\n% x\nwant\n% x", h, want)
	}
}

func TestUnusedTargetLeavesRotationAtOnce(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	lb, addr := startLB(t, Config{Health: fastChecks}, clock.Real{}, a.target(), b.target())
	eventually(t, 5*time.Second, "two healthy targets", func() bool { return countIn(lb, Healthy) == 2 })
	if err := lb.SetUnused(b.target().ID, "Target is in the stopped state"); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 6; i++ {
		if body, err := get(addr); err != nil || body != "a" {
			t.Fatalf("request %d: %q %v", i, body, err)
		}
	}
	if err := lb.SetUnused(b.target().ID, ""); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "back in service", func() bool { return countIn(lb, Healthy) == 2 })
	seen := map[string]bool{}
	for i := 0; i < 4; i++ {
		body, _ := get(addr)
		seen[body] = true
	}
	if !seen["a"] || !seen["b"] {
		t.Fatalf("after coming back, requests reached %v", seen)
	}
	if err := lb.SetUnused("nope", ""); !errors.Is(err, ErrTargetNotFound) {
		t.Fatalf("unknown target: %v", err)
	}
}

func TestNoTargetRefusesAndCounts(t *testing.T) {
	lb, addr := startLB(t, Config{}, clock.Real{})
	if _, err := get(addr); err == nil {
		t.Fatal("a request with no target succeeded")
	}
	if st := lb.Stats(); st.RejectedConnections != 1 {
		t.Fatalf("rejected %d", st.RejectedConnections)
	}
}

func TestPortInUseIsReportedAndReconfigureIsAllOrNothing(t *testing.T) {
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	port := taken.Addr().(*net.TCPAddr).Port
	if _, err := New(Config{Listeners: []Listener{{Port: port, TargetPort: 80}}}, clock.Real{}, quiet()); !errors.Is(err, ErrPortInUse) {
		t.Fatalf("New on a taken port: %v", err)
	}
	be := startBackend(t, "a", nil)
	first := freePort(t)
	lb, _ := startLB(t, Config{Health: fastChecks, Listeners: []Listener{{Port: first, TargetPort: 80}}}, clock.Real{}, be.target())
	cfg := lb.Config()
	cfg.Listeners = append(cfg.Listeners, Listener{Port: port, TargetPort: 80})
	if err := lb.Reconfigure(cfg); !errors.Is(err, ErrPortInUse) {
		t.Fatalf("Reconfigure onto a taken port: %v", err)
	}
	if got := lb.Config().Listeners; len(got) != 1 {
		t.Fatalf("failed reconfigure changed listeners: %v", got)
	}
	second := freePort(t)
	cfg.Listeners = []Listener{{Port: second, TargetPort: 80}}
	if err := lb.Reconfigure(cfg); err != nil {
		t.Fatal(err)
	}
	eventually(t, 5*time.Second, "healthy", func() bool { return countIn(lb, Healthy) == 1 })
	if body, err := get(fmt.Sprintf("127.0.0.1:%d", second)); err != nil || body != "a" {
		t.Fatalf("new listener: %q %v", body, err)
	}
	if _, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", first), time.Second); err == nil {
		t.Fatal("removed listener still accepts")
	}
}

func TestCloseEndsEverything(t *testing.T) {
	long := startBackend(t, "long", streamer(1000, 20*time.Millisecond))
	b, err := New(Config{Health: fastChecks, Listeners: []Listener{{Port: freePort(t), TargetPort: 80}}}, clock.Real{}, quiet())
	if err != nil {
		t.Fatal(err)
	}
	b.Register(long.target())
	eventually(t, 5*time.Second, "healthy", func() bool { return countIn(b, Healthy) == 1 })
	addr := fmt.Sprintf("127.0.0.1:%d", b.Config().Listeners[0].Port)
	resp, err := client.Get("http://" + addr + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { defer wg.Done(); io.Copy(io.Discard, resp.Body) }()
	b.Close()
	wg.Wait()
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Fatal("listener still open after Close")
	}
}

func TestTargetsOutsideLoopbackNeedANamespace(t *testing.T) {
	lb, _ := startLB(t, Config{}, clock.Real{})
	err := lb.Register(Target{ID: "10.77.0.5:80", Addr: netip.MustParseAddr("10.77.0.5"), Port: 80})
	if !errors.Is(err, errs.InvalidParameter) {
		t.Fatalf("a private address without a namespace: %v", err)
	}
	if err := lb.Register(Target{ID: "10.77.0.5:80", Addr: netip.MustParseAddr("10.77.0.5"), Port: 80, Netns: "kumo-lb-test-none"}); err != nil {
		t.Fatalf("with a namespace: %v", err)
	}
}
