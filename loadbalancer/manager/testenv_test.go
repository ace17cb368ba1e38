package manager

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/loadbalancer"
	"kumo/store"
)

// These tests run real balancers on loopback, with plain Go servers on
// 127.0.0.1 as targets.

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func openStore(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// fakeInstances stands in for the instance service.
type fakeInstances struct {
	mu    sync.Mutex
	byID  map[string]instances.Instance
	hooks []func(string, instances.State)
}

func newFakeInstances() *fakeInstances { return &fakeInstances{byID: map[string]instances.Instance{}} }

func (f *fakeInstances) Get(_ context.Context, id string) (instances.Instance, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in, ok := f.byID[id]
	if !ok {
		return in, errs.New(instances.ErrNotFound, "the instance ID '%s' does not exist", id)
	}
	return in, nil
}

func (f *fakeInstances) OnStateChange(fn func(string, instances.State)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hooks = append(f.hooks, fn)
}

// set records an instance's state and tells the hooks, as the instance
// service does. The instance keeps its owner.
func (f *fakeInstances) set(id, ip string, st instances.State) {
	f.mu.Lock()
	owner := f.byID[id].Owner
	f.byID[id] = instances.Instance{Instance: store.Instance{ID: id, Owner: owner, PrivateIP: ip, State: string(st)}, State: st}
	hooks := f.hooks
	f.mu.Unlock()
	for _, fn := range hooks {
		fn(id, st)
	}
}

// own gives an instance to an account.
func (f *fakeInstances) own(id, owner string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	in := f.byID[id]
	in.Owner = owner
	f.byID[id] = in
}

func instanceID(n int) string { return fmt.Sprintf("i-%017x", n) }

// open starts a manager on st; calling it again on the same store after
// closing the first is a restart.
func open(t *testing.T, st *store.Store, inst Instances, clk clock.Clock, cfg Config) *Manager {
	t.Helper()
	m := New(st, inst, cfg, clk, quiet())
	if err := m.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(m.Close)
	return m
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// occupy holds a port as another program would.
func occupy(t *testing.T, addr string) net.Listener {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	return ln
}

// serve answers every HTTP request on ln with name.
func serve(t *testing.T, ln net.Listener, name string) {
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, name) })}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
}

// backend is an HTTP server on 127.0.0.1 whose body is its name.
func backend(t *testing.T, name string) netip.AddrPort {
	t.Helper()
	ln := occupy(t, "127.0.0.1:0")
	serve(t, ln, name)
	return ln.Addr().(*net.TCPAddr).AddrPort()
}

var client = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}, Timeout: 5 * time.Second}

func get(port int) (string, error) {
	resp, err := client.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return string(body), err
}

func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// answers waits until a GET through port answers one of want.
func answers(t *testing.T, port int, want ...string) {
	t.Helper()
	eventually(t, fmt.Sprintf("port %d to answer %v", port, want), func() bool {
		body, err := get(port)
		for _, w := range want {
			if err == nil && body == w {
				return true
			}
		}
		return false
	})
}

// fastChecks decides quickly, so tests see health change within seconds.
var fastChecks = loadbalancer.HealthCheck{Protocol: "TCP", Interval: time.Second, Timeout: 500 * time.Millisecond,
	HealthyThreshold: 2, UnhealthyThreshold: 2}

func webConfig(name string, ports ...int) loadbalancer.Config {
	cfg := loadbalancer.Config{Name: name, Health: fastChecks}
	for _, p := range ports {
		cfg.Listeners = append(cfg.Listeners, loadbalancer.Listener{Port: p, TargetPort: 80})
	}
	return cfg
}

func create(t *testing.T, m *Manager, cfg loadbalancer.Config) LoadBalancer {
	t.Helper()
	lb, err := m.Create(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	return lb
}

func register(t *testing.T, m *Manager, ref string, targets ...string) {
	t.Helper()
	if err := m.Register(context.Background(), ref, targets); err != nil {
		t.Fatal(err)
	}
}

// targetOf returns the stats of one target, and whether it is there.
func targetOf(t *testing.T, m *Manager, ref, id string) (loadbalancer.TargetStats, bool) {
	t.Helper()
	lb, err := m.Get(context.Background(), ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, ts := range lb.Stats.Targets {
		if ts.ID == id {
			return ts, true
		}
	}
	return loadbalancer.TargetStats{}, false
}
