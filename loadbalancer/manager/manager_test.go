package manager

import (
	"context"
	"errors"
	"fmt"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/loadbalancer"
)

func TestCreateServesAndRefusesConflicts(t *testing.T) {
	ctx := context.Background()
	m := open(t, openStore(t), newFakeInstances(), clock.Real{}, Config{})
	port, taken := freePort(t), freePort(t)
	occupy(t, fmt.Sprintf("127.0.0.1:%d", taken))
	web := create(t, m, webConfig("web", port))
	if web.State != Active || web.BindAddr != "127.0.0.1" || web.Algorithm != loadbalancer.RoundRobin || !strings.HasPrefix(web.ID, "lb-") {
		t.Fatalf("created %+v", web)
	}
	a, b := backend(t, "a"), backend(t, "b")
	register(t, m, "web", a.String(), b.String())
	seen := map[string]bool{}
	eventually(t, "both backends to answer", func() bool {
		body, err := get(port)
		if err == nil {
			seen[body] = true
		}
		return seen["a"] && seen["b"]
	})

	other := freePort(t)
	for _, tc := range []struct {
		name string
		cfg  loadbalancer.Config
		kind error
	}{
		{"duplicate name", webConfig("web", other), ErrDuplicateName},
		{"port of another load balancer", webConfig("api", other, port), ErrDuplicateListener},
		{"every address, port of another", func() loadbalancer.Config {
			c := webConfig("api", port)
			c.BindAddr = "0.0.0.0"
			return c
		}(), ErrDuplicateListener},
		{"port of another program", webConfig("api", taken), loadbalancer.ErrPortInUse},
		{"no name", webConfig("", other), errs.MissingParameter},
		{"name with a space", webConfig("my web", other), errs.InvalidParameter},
		{"name shaped like an id", webConfig("lb-0123456789abcdef0", other), errs.InvalidParameter},
		{"name too long", webConfig(strings.Repeat("a", 33), other), errs.InvalidParameter},
		{"no listener", webConfig("api"), errs.MissingParameter},
		{"same port twice", webConfig("api", other, other), errs.InvalidParameter},
		{"unknown algorithm", func() loadbalancer.Config {
			c := webConfig("api", other)
			c.Algorithm = "random"
			return c
		}(), errs.InvalidParameter},
		{"bind address not an IP", func() loadbalancer.Config {
			c := webConfig("api", other)
			c.BindAddr = "localhost"
			return c
		}(), errs.InvalidParameter},
		{"bind address with a zone", func() loadbalancer.Config {
			c := webConfig("api", other)
			c.BindAddr = "fe80::1%lo"
			return c
		}(), errs.InvalidParameter},
		{"same address written as IPv6, port of another", func() loadbalancer.Config {
			c := webConfig("api", port)
			c.BindAddr = "::ffff:127.0.0.1"
			return c
		}(), ErrDuplicateListener},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.Create(ctx, tc.cfg); !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
		})
	}
	list, err := m.List(ctx)
	if err != nil || len(list) != 1 {
		t.Fatalf("refused creates left load balancers behind: %+v, %v", list, err)
	}
	if body, err := get(port); err != nil || (body != "a" && body != "b") {
		t.Fatalf("web after refusals: %q, %v", body, err)
	}
}

func TestGetByIDOrName(t *testing.T) {
	m := open(t, openStore(t), newFakeInstances(), clock.Real{}, Config{})
	web := create(t, m, webConfig("web", freePort(t)))
	for _, ref := range []string{web.ID, "web"} {
		got, err := m.Get(context.Background(), ref)
		if err != nil || got.ID != web.ID {
			t.Fatalf("Get(%s) = %+v, %v", ref, got, err)
		}
	}
	for _, ref := range []string{"lb-00000000000000000", "nope", ""} {
		if _, err := m.Get(context.Background(), ref); !errors.Is(err, ErrNotFound) {
			t.Fatalf("Get(%q): %v, want ErrNotFound", ref, err)
		}
	}
}

func TestUpdateAppliesOrChangesNothing(t *testing.T) {
	ctx := context.Background()
	m := open(t, openStore(t), newFakeInstances(), clock.Real{}, Config{})
	port, added, taken, theirs := freePort(t), freePort(t), freePort(t), freePort(t)
	occupy(t, fmt.Sprintf("127.0.0.1:%d", taken))
	// The same port on another loopback address, held by another program.
	occupy(t, fmt.Sprintf("127.0.0.2:%d", port))
	create(t, m, webConfig("web", port))
	create(t, m, webConfig("api", theirs))
	register(t, m, "web", backend(t, "a").String())
	answers(t, port, "a")

	lb, err := m.Update(ctx, "web", func(c *loadbalancer.Config) error {
		c.Listeners = append(c.Listeners, loadbalancer.Listener{Port: added, TargetPort: 80})
		c.Algorithm, c.Health.Interval, c.IdleTimeout = loadbalancer.LeastConnections, 10*time.Second, time.Minute
		c.Name = "renamed"
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if lb.Name != "web" || lb.Algorithm != loadbalancer.LeastConnections || lb.Health.Interval != 10*time.Second || len(lb.Listeners) != 2 {
		t.Fatalf("after update: %+v", lb.Config)
	}
	answers(t, added, "a")
	stored, _ := m.Get(ctx, lb.ID)
	if !reflect.DeepEqual(stored.Config, lb.Config) {
		t.Fatalf("stored %+v\nreturned %+v", stored.Config, lb.Config)
	}

	for _, tc := range []struct {
		name   string
		change func(*loadbalancer.Config) error
		kind   error
	}{
		{"port of another load balancer", func(c *loadbalancer.Config) error {
			c.Listeners = append(c.Listeners, loadbalancer.Listener{Port: theirs, TargetPort: 80})
			return nil
		}, ErrDuplicateListener},
		{"port of another program", func(c *loadbalancer.Config) error {
			c.Listeners = append(c.Listeners, loadbalancer.Listener{Port: taken, TargetPort: 80})
			return nil
		}, loadbalancer.ErrPortInUse},
		{"bind address where the port is taken", func(c *loadbalancer.Config) error {
			c.BindAddr = "127.0.0.2"
			return nil
		}, loadbalancer.ErrPortInUse},
		{"invalid health check", func(c *loadbalancer.Config) error {
			c.Health.Interval = time.Hour
			return nil
		}, errs.InvalidParameter},
		{"change refused by the caller", func(c *loadbalancer.Config) error {
			return errs.New(errs.InvalidParameter, "no")
		}, errs.InvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := m.Update(ctx, "web", tc.change); !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			got, _ := m.Get(ctx, "web")
			if !reflect.DeepEqual(got.Config, lb.Config) {
				t.Fatalf("a refused update changed the config:\n%+v\nwant\n%+v", got.Config, lb.Config)
			}
			answers(t, port, "a")
			answers(t, added, "a")
		})
	}
	if _, err := m.Update(ctx, "nope", func(*loadbalancer.Config) error { return nil }); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of unknown: %v", err)
	}
}

func TestDeleteFreesPortsAndRecords(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m := open(t, st, newFakeInstances(), clock.Real{}, Config{})
	port := freePort(t)
	web := create(t, m, webConfig("web", port))
	register(t, m, "web", backend(t, "a").String())
	answers(t, port, "a")
	if err := m.Delete(ctx, "web"); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Get(ctx, web.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted load balancer: %v", err)
	}
	if err := m.Delete(ctx, "web"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
	if ts, _ := st.Targets(ctx, web.ID); len(ts) != 0 {
		t.Fatalf("targets left: %+v", ts)
	}
	ln, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatalf("port still held: %v", err)
	}
	ln.Close()
	create(t, m, webConfig("web", port))
}

func TestRestartRestoresListenersAndTargets(t *testing.T) {
	st := openStore(t)
	inst := newFakeInstances()
	first := open(t, st, inst, clock.Real{}, Config{})
	port := freePort(t)
	create(t, first, webConfig("web", port))
	register(t, first, "web", backend(t, "a").String())
	answers(t, port, "a")
	first.Close()
	if _, err := get(port); err == nil {
		t.Fatal("the listener outlived its manager")
	}

	second := open(t, st, inst, clock.Real{}, Config{})
	answers(t, port, "a")
	lb, err := second.Get(context.Background(), "web")
	if err != nil || lb.State != Active || len(lb.Stats.Targets) != 1 {
		t.Fatalf("after restart: %+v, %v", lb, err)
	}
}

func TestListenerTakenAtStartIsRetried(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	inst := newFakeInstances()
	first := open(t, st, inst, clock.Real{}, Config{})
	port := freePort(t)
	create(t, first, webConfig("web", port))
	a := backend(t, "a")
	register(t, first, "web", a.String())
	first.Close()

	squatter := occupy(t, fmt.Sprintf("127.0.0.1:%d", port))
	clk := clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	second := open(t, st, inst, clk, Config{RetryInterval: time.Minute})
	lb, err := second.Get(ctx, "web")
	if err != nil || lb.State != Failed || !strings.Contains(lb.StateReason, "in use") {
		t.Fatalf("with its port taken: %+v, %v", lb, err)
	}
	if len(lb.Stats.Targets) != 1 || lb.Stats.Targets[0].State != Unavailable || lb.Stats.Targets[0].Addr != a.String() {
		t.Fatalf("targets of a failed load balancer: %+v", lb.Stats.Targets)
	}
	// Targets may still be registered; they are served once it starts.
	b := backend(t, "b")
	register(t, second, "web", b.String())

	squatter.Close()
	eventually(t, "the retry to start it", func() bool {
		clk.Advance(time.Minute)
		lb, err := second.Get(ctx, "web")
		return err == nil && lb.State == Active
	})
	answers(t, port, "a")
	answers(t, port, "b")
}

func TestFailedLoadBalancerStartsWithItsNewSettings(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	first := open(t, st, newFakeInstances(), clock.Real{}, Config{})
	port, fresh := freePort(t), freePort(t)
	create(t, first, webConfig("web", port))
	register(t, first, "web", backend(t, "a").String())
	first.Close()

	occupy(t, fmt.Sprintf("127.0.0.1:%d", port))
	second := open(t, st, newFakeInstances(), clock.Real{}, Config{})
	lb, err := second.Update(ctx, "web", func(c *loadbalancer.Config) error {
		c.Listeners = []loadbalancer.Listener{{Port: fresh, TargetPort: 80}}
		return nil
	})
	if err != nil || lb.State != Active {
		t.Fatalf("update of a failed load balancer: %+v, %v", lb, err)
	}
	answers(t, fresh, "a")
}
