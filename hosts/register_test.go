package hosts_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strings"
	"testing"

	"kumo/hosts"
	"kumo/internal/errs"
	"kumo/scheduler"
)

func TestRegisterValidates(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	e.lab.add("qemu+tcp://node1/system", 4, 8192)
	good := hosts.RegisterRequest{Name: "node1", URI: "qemu+tcp://node1/system", Zone: "local-a"}
	cases := []struct {
		name string
		edit func(*hosts.RegisterRequest)
		want error
	}{
		{"no name", func(r *hosts.RegisterRequest) { r.Name = "" }, errs.MissingParameter},
		{"uppercase name", func(r *hosts.RegisterRequest) { r.Name = "Node1" }, errs.InvalidParameter},
		{"name ending in a dash", func(r *hosts.RegisterRequest) { r.Name = "node-" }, errs.InvalidParameter},
		{"name with a slash", func(r *hosts.RegisterRequest) { r.Name = "a/b" }, errs.InvalidParameter},
		{"name of 64 characters", func(r *hosts.RegisterRequest) { r.Name = strings.Repeat("a", 64) }, errs.InvalidParameter},
		{"name shaped like an id", func(r *hosts.RegisterRequest) { r.Name = "h-0123456789abcdef0" }, errs.InvalidParameter},
		{"no zone", func(r *hosts.RegisterRequest) { r.Zone = "" }, errs.MissingParameter},
		{"zone with a space", func(r *hosts.RegisterRequest) { r.Zone = "local a" }, errs.InvalidParameter},
		{"netns with a slash", func(r *hosts.RegisterRequest) { r.Netns = "../kumo" }, errs.InvalidParameter},
		{"netns dot-dot", func(r *hosts.RegisterRequest) { r.Netns = ".." }, errs.InvalidParameter},
		{"no URI", func(r *hosts.RegisterRequest) { r.URI = "" }, errs.MissingParameter},
		{"URI of another hypervisor", func(r *hosts.RegisterRequest) { r.URI = "xen:///system" }, errs.InvalidParameter},
		{"URI without a scheme", func(r *hosts.RegisterRequest) { r.URI = "/system" }, errs.InvalidParameter},
		{"opaque URI", func(r *hosts.RegisterRequest) { r.URI = "qemu:system" }, errs.InvalidParameter},
		{"QEMU URI with another path", func(r *hosts.RegisterRequest) { r.URI = "qemu:///root" }, errs.InvalidParameter},
		{"remote transport without a host", func(r *hosts.RegisterRequest) { r.URI = "qemu+ssh:///system" }, errs.InvalidParameter},
		{"password in the URI", func(r *hosts.RegisterRequest) { r.URI = "qemu+tcp://root:secret@node1/system" }, errs.InvalidParameter},
		{"test URI without a path", func(r *hosts.RegisterRequest) { r.URI = "test://" }, errs.InvalidParameter},
		{"unix socket URI without a socket", func(r *hosts.RegisterRequest) { r.URI = "qemu+unix:///system" }, errs.InvalidParameter},
		{"unix socket URI with a relative socket", func(r *hosts.RegisterRequest) { r.URI = "qemu+unix:///system?socket=run/sock" }, errs.InvalidParameter},
		{"negative CPU ratio", func(r *hosts.RegisterRequest) { r.CPURatio = -1 }, errs.InvalidParameter},
		{"NaN memory ratio", func(r *hosts.RegisterRequest) { r.MemoryRatio = math.NaN() }, errs.InvalidParameter},
		{"infinite CPU ratio", func(r *hosts.RegisterRequest) { r.CPURatio = math.Inf(1) }, errs.InvalidParameter},
		{"CPU ratio past the maximum", func(r *hosts.RegisterRequest) { r.CPURatio = hosts.MaxRatio + 1 }, errs.InvalidParameter},
		{"negative reservation", func(r *hosts.RegisterRequest) { r.Reserved.MemoryMiB = -1 }, errs.InvalidParameter},
		{"reservation of every CPU", func(r *hosts.RegisterRequest) { r.Reserved.VCPUs = 4 }, errs.InvalidParameter},
		{"reservation of all memory", func(r *hosts.RegisterRequest) { r.Reserved.MemoryMiB = 8192 }, errs.InvalidParameter},
		{"unreachable host", func(r *hosts.RegisterRequest) { r.URI = "qemu+ssh://elsewhere/system" }, hosts.ErrUnreachable},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := good
			c.edit(&req)
			if _, err := e.svc.Register(context.Background(), req); !errors.Is(err, c.want) {
				t.Fatalf("Register(%+v): %v, want %v", req, err, c.want)
			}
		})
	}
	if all, _ := e.svc.List(context.Background()); len(all) != 0 {
		t.Fatalf("refused registrations left hosts: %+v", all)
	}
	// The last two reservations were refused after connecting.
	if _, err := e.lab.latest("qemu+tcp://node1/system").Host(context.Background()); err == nil {
		t.Fatal("a refused registration left its connection open")
	}

	for name, uri := range map[string]string{
		"local": "qemu:///system", "session": "qemu:///session", "node2": "qemu+ssh://root@node2:2222/system?keyfile=/k",
		"node3": "qemu+tls://node3/system", "sim": "test:///default",
	} {
		req := good
		req.Name, req.URI = name, uri
		e.lab.add(uri, 2, 2048)
		if _, err := e.svc.Register(context.Background(), req); err != nil {
			t.Errorf("register %s: %v", uri, err)
		}
	}
}

func TestRegisterReadsCapacity(t *testing.T) {
	e := newEnv(t, hosts.Config{CPURatio: 4})
	h := e.register(t, "node1", 8, 16384, func(r *hosts.RegisterRequest) {
		r.Reserved = scheduler.Resources{VCPUs: 2, MemoryMiB: 1024}
		r.MemoryRatio = 1.5
		r.Netns = "kumo"
	})
	want := hosts.Host{
		ID: h.ID, Name: "node1", URI: "qemu+tcp://node1/system", Zone: "local-a", Netns: "kumo",
		State: hosts.StateEnabled, Health: hosts.HealthUp, Arch: "x86_64",
		Reported: scheduler.Resources{VCPUs: 8, MemoryMiB: 16384}, Reserved: scheduler.Resources{VCPUs: 2, MemoryMiB: 1024},
		CPURatio: 4, MemoryRatio: 1.5,
		// (8-2)×4 vCPUs, (16384-1024)×1.5 MiB.
		Capacity:  scheduler.Resources{VCPUs: 24, MemoryMiB: 23040},
		CreatedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
	}
	if h != want {
		t.Fatalf("registered\n%+v\nwant\n%+v", h, want)
	}
	for _, ref := range []string{h.ID, "node1"} {
		if got, err := e.svc.Get(context.Background(), ref); err != nil || got != want {
			t.Fatalf("Get(%s): %+v, %v", ref, got, err)
		}
	}
	if _, err := e.svc.Get(context.Background(), "node2"); !errors.Is(err, hosts.ErrNotFound) {
		t.Fatalf("Get of an unknown host: %v", err)
	}
	if _, err := e.svc.Driver(h.ID); err != nil {
		t.Fatalf("driver of a registered host: %v", err)
	}

	if _, err := e.placeN(t, 3, scheduler.Resources{VCPUs: 4, MemoryMiB: 2048}); err != nil {
		t.Fatal(err)
	}
	all, err := e.svc.List(context.Background())
	if err != nil || len(all) != 1 || all[0].Used != (scheduler.Resources{VCPUs: 12, MemoryMiB: 6144}) || all[0].Instances != 3 {
		t.Fatalf("listing after 3 placements: %+v, %v", all, err)
	}
}

func TestRegisterRefusesDuplicates(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	e.register(t, "node1", 2, 2048)
	ctx := context.Background()
	if _, err := e.svc.Register(ctx, hosts.RegisterRequest{Name: "node1", URI: "qemu+tcp://node9/system", Zone: "local-a"}); !errors.Is(err, hosts.ErrDuplicateName) {
		t.Fatalf("same name: %v, want ErrDuplicateName", err)
	}
	if _, err := e.svc.Register(ctx, hosts.RegisterRequest{Name: "node2", URI: "qemu+tcp://node1/system", Zone: "local-a"}); !errors.Is(err, hosts.ErrDuplicateURI) {
		t.Fatalf("same URI: %v, want ErrDuplicateURI", err)
	}
	// Simulated hosts each stand for their own machine.
	e.lab.add("test:///default", 16, 8192)
	for _, name := range []string{"sim1", "sim2"} {
		if _, err := e.svc.Register(ctx, hosts.RegisterRequest{Name: name, URI: "test:///default", Zone: "local-b"}); err != nil {
			t.Fatalf("simulated host %s: %v", name, err)
		}
	}
}

func TestEnsureIsIdempotent(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	e.lab.add("qemu:///system", 2, 4096)
	ctx := context.Background()
	req := hosts.RegisterRequest{Name: "local", URI: "qemu:///system", Zone: "local-a", Netns: "kumo"}
	first, err := e.svc.Ensure(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Drain(ctx, "local"); err != nil {
		t.Fatal(err)
	}
	again, err := e.svc.Ensure(ctx, req)
	if err != nil || again.ID != first.ID || again.State != hosts.StateDraining {
		t.Fatalf("second Ensure: %+v, %v; want the same host, still draining", again, err)
	}
	if n := e.lab.opens("qemu:///system"); n != 1 {
		t.Fatalf("Ensure of a known host connected again: %d connections", n)
	}
	req.URI = "qemu+ssh://other/system"
	if _, err := e.svc.Ensure(ctx, req); !errors.Is(err, hosts.ErrDuplicateName) {
		t.Fatalf("Ensure with another URI: %v, want ErrDuplicateName", err)
	}
	if all, _ := e.svc.List(ctx); len(all) != 1 {
		t.Fatalf("%d hosts, want 1", len(all))
	}
}

func TestDrainEnableRemove(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	ctx := context.Background()
	a := e.register(t, "a", 4, 8192)
	b := e.register(t, "b", 4, 8192)
	size := scheduler.Resources{VCPUs: 1, MemoryMiB: 512}

	if h, err := e.svc.Drain(ctx, "a"); err != nil || h.State != hosts.StateDraining {
		t.Fatalf("drain: %+v, %v", h, err)
	}
	for i := range 5 {
		if host, err := placeOne(e.svc, fmt.Sprintf("i-%d", i), size); err != nil || host != b.ID {
			t.Fatalf("placement %d with a draining: on %s, %v; want %s", i, host, err, b.ID)
		}
	}
	if h, err := e.svc.Drain(ctx, b.ID); err != nil || h.State != hosts.StateDraining {
		t.Fatalf("drain b: %+v, %v", h, err)
	}
	var ice *scheduler.InsufficientCapacityError
	if _, err := placeOne(e.svc, "i-x", size); !errors.As(err, &ice) || !errors.Is(err, errs.InsufficientSpace) || ice.Rejected[a.ID] != scheduler.ReasonDraining {
		t.Fatalf("placement with every host draining: %v", err)
	}
	if h, err := e.svc.Enable(ctx, "a"); err != nil || h.State != hosts.StateEnabled {
		t.Fatalf("enable: %+v, %v", h, err)
	}
	if host, err := placeOne(e.svc, "i-x", size); err != nil || host != a.ID {
		t.Fatalf("placement after enabling a: on %s, %v", host, err)
	}

	if err := e.svc.Remove(ctx, "b"); !errors.Is(err, hosts.ErrInUse) {
		t.Fatalf("remove a host holding instances: %v, want ErrInUse", err)
	}
	if err := e.svc.Release(ctx, "i-0", "i-1", "i-2", "i-3", "i-4"); err != nil {
		t.Fatal(err)
	}
	drv, _ := e.svc.Driver(b.ID)
	if err := e.svc.Remove(ctx, "b"); err != nil {
		t.Fatalf("remove an empty host: %v", err)
	}
	if _, err := drv.Host(ctx); err == nil {
		t.Fatal("the removed host's driver is still open")
	}
	if _, err := e.svc.Driver(b.ID); !errors.Is(err, hosts.ErrNotFound) {
		t.Fatalf("driver of a removed host: %v", err)
	}
	for name, err := range map[string]error{
		"Get":    func() error { _, err := e.svc.Get(ctx, "b"); return err }(),
		"Drain":  func() error { _, err := e.svc.Drain(ctx, "b"); return err }(),
		"Remove": e.svc.Remove(ctx, "b"),
	} {
		if !errors.Is(err, hosts.ErrNotFound) {
			t.Errorf("%s of a removed host: %v, want ErrNotFound", name, err)
		}
	}
}

// placeN places n instances named i-0... in one request.
func (e *env) placeN(t *testing.T, n int, size scheduler.Resources) ([]scheduler.Assignment, error) {
	t.Helper()
	idList := make([]string, n)
	for i := range idList {
		idList[i] = fmt.Sprintf("i-%d", i)
	}
	return e.svc.Place(context.Background(), hosts.PlaceRequest{Request: scheduler.Request{Size: size}, InstanceIDs: idList})
}
