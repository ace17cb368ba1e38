package hosts_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/hypervisor/fake"
	"kumo/internal/clock"
	"kumo/scheduler"
	"kumo/store"
)

// lab is a set of simulated machines by URI. Each connection is a new
// fake driver reporting the machine's resources; a machine taken down
// fails its current connection's next probe and refuses new connections.
type lab struct {
	mu       sync.Mutex
	machines map[string]*machine
}

type machine struct {
	info  hypervisor.HostInfo
	down  bool
	hang  chan struct{} // when set, connecting waits until it is closed
	opens int
	drv   *fake.Driver // the latest connection
}

func newLab() *lab { return &lab{machines: map[string]*machine{}} }

// add makes a machine at uri with cpus and mem MiB.
func (l *lab) add(uri string, cpus, mem int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.machines[uri] = &machine{info: hypervisor.HostInfo{Hostname: uri, Arch: "x86_64", CPUs: cpus, MemoryMiB: mem, Accel: hypervisor.AccelTCG}}
}

func (l *lab) connect(uri string) (hypervisor.Driver, error) {
	l.mu.Lock()
	if m := l.machines[uri]; m != nil && m.hang != nil {
		hang := m.hang
		l.mu.Unlock()
		<-hang
		l.mu.Lock()
	}
	defer l.mu.Unlock()
	m := l.machines[uri]
	switch {
	case m == nil:
		return nil, fmt.Errorf("%s: no such machine", uri)
	case m.down:
		return nil, fmt.Errorf("%s: connection refused", uri)
	}
	m.opens++
	m.drv = fake.New(fake.Options{Host: m.info})
	return m.drv, nil
}

func (l *lab) setDown(uri string, down bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	m := l.machines[uri]
	m.down = down
	if down && m.drv != nil {
		m.drv.FailNext("host", errors.New("connection reset by peer"))
	}
}

// hang makes connections to the machine wait until the returned function
// is called.
func (l *lab) hang(uri string) (release func()) {
	l.mu.Lock()
	defer l.mu.Unlock()
	ch := make(chan struct{})
	l.machines[uri].hang = ch
	return func() {
		l.mu.Lock()
		l.machines[uri].hang = nil
		l.mu.Unlock()
		close(ch)
	}
}

// latest returns the machine's latest connection.
func (l *lab) latest(uri string) *fake.Driver {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.machines[uri].drv
}

func (l *lab) opens(uri string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.machines[uri].opens
}

// env is a hosts service on a fresh store, over a lab, on a fake clock.
type env struct {
	path  string
	store *store.Store
	lab   *lab
	clock *clock.Fake
	cfg   hosts.Config
	svc   *hosts.Service
}

func newEnv(t testing.TB, cfg hosts.Config) *env {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kumo.db")
	e := &env{path: path, lab: newLab(), clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)), cfg: cfg}
	e.store = openStore(t, path)
	e.svc = e.open(t, e.store)
	return e
}

func openStore(t testing.TB, path string) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// open starts another service on st, over the env's lab and clock, as a
// restarted kumod would.
func (e *env) open(t testing.TB, st *store.Store) *hosts.Service {
	t.Helper()
	svc := hosts.New(e.cfg, st, e.lab.connect, e.clock, quietLog())
	if err := svc.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	return svc
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// register adds a lab machine called name and registers it as a host with
// no reservation.
func (e *env) register(t testing.TB, name string, cpus, mem int, tune ...func(*hosts.RegisterRequest)) hosts.Host {
	t.Helper()
	uri := "qemu+tcp://" + name + "/system"
	e.lab.add(uri, cpus, mem)
	req := hosts.RegisterRequest{Name: name, URI: uri, Zone: "local-a"}
	for _, f := range tune {
		f(&req)
	}
	h, err := e.svc.Register(context.Background(), req)
	if err != nil {
		t.Fatalf("register %s: %v", name, err)
	}
	return h
}

// placeOne places one instance of size; the error is the scheduler's or
// the service's.
func placeOne(svc *hosts.Service, id string, size scheduler.Resources) (string, error) {
	as, err := svc.Place(context.Background(), hosts.PlaceRequest{Request: scheduler.Request{Size: size}, InstanceIDs: []string{id}})
	if err != nil {
		return "", err
	}
	return as[0].HostID, nil
}
