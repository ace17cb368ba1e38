package hosts_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"kumo/hosts"
	"kumo/internal/clock"
	"kumo/scheduler"
)

type change struct {
	host string
	up   bool
}

// listen returns a channel of the service's health changes.
func listen(svc *hosts.Service) <-chan change {
	ch := make(chan change, 16)
	svc.OnHealthChange(func(id string, up bool) { ch <- change{id, up} })
	return ch
}

func expect(t *testing.T, ch <-chan change, want change) {
	t.Helper()
	select {
	case got := <-ch:
		if got != want {
			t.Fatalf("health change %+v, want %+v", got, want)
		}
	default:
		t.Fatalf("no health change, want %+v", want)
	}
}

func TestDownHostIsAvoidedAndReconnected(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	ctx := context.Background()
	changes := listen(e.svc)
	a := e.register(t, "a", 4, 8192)
	b := e.register(t, "b", 4, 8192)
	// A registered host is up from the start.
	expect(t, changes, change{a.ID, true})
	expect(t, changes, change{b.ID, true})
	size := scheduler.Resources{VCPUs: 1, MemoryMiB: 1024}
	onA := hosts.PlaceRequest{Request: scheduler.Request{Size: size}, InstanceIDs: []string{"i-a"}, Hosts: []string{a.ID}}
	if _, err := e.svc.Place(ctx, onA); err != nil {
		t.Fatal(err)
	}
	before, _ := e.svc.Driver(a.ID)

	e.lab.setDown(a.URI, true)
	e.svc.CheckHealth()
	expect(t, changes, change{a.ID, false})
	got, _ := e.svc.Get(ctx, a.ID)
	if got.Health != hosts.HealthDown || !strings.Contains(got.HealthReason, "connection reset") ||
		got.Reported != a.Reported || got.Instances != 1 {
		t.Fatalf("a after its connection dropped: %+v; want down, with its last capacity and its instance", got)
	}
	if _, err := e.svc.Driver(a.ID); !errors.Is(err, hosts.ErrUnreachable) {
		t.Fatalf("driver of a down host: %v", err)
	}
	if up := e.svc.Up(); len(up) != 1 || up[0].Name != "b" {
		t.Fatalf("hosts up while a is down: %+v", up)
	}
	if id, name, err := e.svc.Names("a"); id != a.ID || name != "a" || err != nil {
		t.Fatalf("Names(a) of a down host = %s, %s, %v", id, name, err)
	}
	if _, err := before.Host(ctx); err == nil {
		t.Fatal("the dropped connection was not closed")
	}
	for _, id := range []string{"i-1", "i-2", "i-3"} {
		if host, err := placeOne(e.svc, id, size); err != nil || host != b.ID {
			t.Fatalf("placement while a is down: on %s, %v; want %s", host, err, b.ID)
		}
	}
	onA.InstanceIDs = []string{"i-a2"}
	var ice *scheduler.InsufficientCapacityError
	if _, err := e.svc.Place(ctx, onA); !errors.As(err, &ice) || ice.Rejected[a.ID] != scheduler.ReasonDown {
		t.Fatalf("placement on a down host: %v", err)
	}

	// While down, every round tries a new connection, and nothing changes.
	e.svc.CheckHealth()
	if len(changes) != 0 {
		t.Fatalf("a second failed probe changed health: %+v", <-changes)
	}

	e.lab.setDown(a.URI, false)
	e.svc.CheckHealth()
	expect(t, changes, change{a.ID, true})
	if n := e.lab.opens(a.URI); n != 2 {
		t.Fatalf("%d connections to a, want 2: the first and the one after it came back", n)
	}
	after, err := e.svc.Driver(a.ID)
	if err != nil || after == before {
		t.Fatalf("driver after a came back: %v, %v; want a new connection", after, err)
	}
	if got, _ := e.svc.Get(ctx, a.ID); got.Health != hosts.HealthUp || got.HealthReason != "" {
		t.Fatalf("a after it came back: %+v", got)
	}
	if _, err := e.svc.Place(ctx, onA); err != nil {
		t.Fatalf("placement on a after it came back: %v", err)
	}
	if got, _ := e.svc.Get(ctx, b.ID); got.Health != hosts.HealthUp {
		t.Fatalf("b: %+v", got)
	}
}

// armedClock is a fake clock that says when the health loop waits on it
// (for an interval), so a test advances time only once the loop waits.
type armedClock struct {
	*clock.Fake
	interval time.Duration
	armed    chan struct{}
}

func (c armedClock) After(d time.Duration) <-chan time.Time {
	ch := c.Fake.After(d)
	if d != c.interval {
		return ch
	}
	select {
	case c.armed <- struct{}{}:
	default:
	}
	return ch
}

// TestHealthLoopFollowsClock checks that the loop probes on the service's
// clock: a failure is noticed once the fake clock passes an interval.
func TestHealthLoopFollowsClock(t *testing.T) {
	const interval = 30 * time.Second
	e := newEnv(t, hosts.Config{})
	e.svc.Close()
	clk := armedClock{Fake: e.clock, interval: interval, armed: make(chan struct{}, 1)}
	e.svc = hosts.New(hosts.Config{HealthInterval: interval}, e.store, e.lab.connect, clk, quietLog())
	changes := listen(e.svc)
	a := e.register(t, "a", 2, 2048)
	expect(t, changes, change{a.ID, true}) // registered
	if err := e.svc.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer e.svc.Close()
	expect(t, changes, change{a.ID, true}) // its first probe after Open

	tick := func(want change) {
		t.Helper()
		<-clk.armed
		clk.Advance(interval - time.Second)
		if len(changes) != 0 {
			t.Fatalf("health changed before the interval passed: %+v", <-changes)
		}
		clk.Advance(time.Second)
		select {
		case got := <-changes:
			if got != want {
				t.Fatalf("health change %+v, want %+v", got, want)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("no health change, want %+v", want)
		}
	}
	e.lab.setDown(a.URI, true)
	tick(change{a.ID, false})
	e.lab.setDown(a.URI, false)
	tick(change{a.ID, true})
}

// TestOpenProbesKnownHosts restarts the service: hosts come from the
// store, and what they are now replaces what was recorded.
func TestOpenProbesKnownHosts(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	ctx := context.Background()
	a := e.register(t, "a", 2, 2048)
	b := e.register(t, "b", 2, 2048)
	e.svc.Close()

	e.lab.setDown(a.URI, true)
	e.lab.add(b.URI, 8, 4096) // b was upgraded while kumod was stopped
	svc := hosts.New(hosts.Config{}, e.store, e.lab.connect, e.clock, quietLog())
	changes := listen(svc)
	if err := svc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	// Each host's first health after a start is a change, from unknown.
	heard := map[change]bool{}
	for len(changes) > 0 {
		heard[<-changes] = true
	}
	if len(heard) != 2 || !heard[change{a.ID, false}] || !heard[change{b.ID, true}] {
		t.Fatalf("health changes at start: %v; want a down and b up", heard)
	}
	if got, _ := svc.Get(ctx, "a"); got.Health != hosts.HealthDown {
		t.Fatalf("a after restart: %+v", got)
	}
	got, _ := svc.Get(ctx, "b")
	if got.Health != hosts.HealthUp || got.Reported != (scheduler.Resources{VCPUs: 8, MemoryMiB: 4096}) {
		t.Fatalf("b after restart: %+v; want up with its new size", got)
	}
	if _, err := svc.Driver(b.ID); err != nil {
		t.Fatalf("driver of b after restart: %v", err)
	}
}

// TestOpenDoesNotWaitForHungHost starts the service while one host's
// connection hangs: Open returns after the probe timeout, and the host
// takes nothing until it answers.
func TestOpenDoesNotWaitForHungHost(t *testing.T) {
	const timeout = 5 * time.Second
	e := newEnv(t, hosts.Config{})
	ctx := context.Background()
	a := e.register(t, "a", 2, 2048)
	e.svc.Close()

	release := e.lab.hang(a.URI)
	clk := armedClock{Fake: e.clock, interval: timeout, armed: make(chan struct{}, 1)}
	svc := hosts.New(hosts.Config{ProbeTimeout: timeout}, e.store, e.lab.connect, clk, quietLog())
	changes := listen(svc)
	opened := make(chan error, 1)
	go func() { opened <- svc.Open(ctx) }()
	<-clk.armed
	clk.Advance(timeout)
	if err := <-opened; err != nil {
		t.Fatal(err)
	}
	defer svc.Close()

	if got, _ := svc.Get(ctx, "a"); got.Health != hosts.HealthUnknown {
		t.Fatalf("a while its probe hangs: %+v", got)
	}
	if _, err := svc.Driver(a.ID); !errors.Is(err, hosts.ErrUnreachable) {
		t.Fatalf("driver of a host not yet probed: %v", err)
	}
	var ice *scheduler.InsufficientCapacityError
	if _, err := placeOne(svc, "i-1", scheduler.Resources{VCPUs: 1, MemoryMiB: 1}); !errors.As(err, &ice) || ice.Rejected[a.ID] != scheduler.ReasonDown {
		t.Fatalf("placement on a host not yet probed: %v", err)
	}

	release()
	select {
	case got := <-changes:
		if got != (change{a.ID, true}) {
			t.Fatalf("health change %+v, want a up", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the hung probe never finished")
	}
	if _, err := placeOne(svc, "i-1", scheduler.Resources{VCPUs: 1, MemoryMiB: 1}); err != nil {
		t.Fatalf("placement once a answered: %v", err)
	}
}
