package store

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"
)

func newLB(n int, bind string, ports ...int) LoadBalancer {
	lb := LoadBalancer{
		ID: fmt.Sprintf("lb-%017x", n), Name: fmt.Sprintf("lb%d", n), BindAddr: bind, Algorithm: "round_robin",
		Health: HealthCheck{Protocol: "HTTP", Port: 8080, Path: "/health", Matcher: "200-399", Interval: 30 * time.Second,
			Timeout: 6 * time.Second, HealthyThreshold: 5, UnhealthyThreshold: 2},
		DeregistrationDelay: 300 * time.Second, IdleTimeout: 350 * time.Second, ConnectTimeout: 1500 * time.Millisecond,
		ProxyProtocol: true, CreatedAt: t0.Add(time.Duration(n) * time.Second),
	}
	for _, p := range ports {
		lb.Listeners = append(lb.Listeners, Listener{Port: p, TargetPort: 80})
	}
	return lb
}

func TestLoadBalancerRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	want := newLB(1, "127.0.0.1", 9002, 9001, 9003)
	if err := s.CreateLoadBalancer(ctx, want); err != nil {
		t.Fatal(err)
	}
	byID, err := s.LoadBalancer(ctx, want.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(byID, want) {
		t.Fatalf("read back\n%+v\nwant\n%+v", byID, want)
	}
	byName, err := s.LoadBalancerByName(ctx, "", "lb1")
	if err != nil || byName.ID != want.ID {
		t.Fatalf("by name: %+v, %v", byName, err)
	}
	for _, lookup := range []func() error{
		func() error { _, err := s.LoadBalancer(ctx, "lb-00000000000000009"); return err },
		func() error { _, err := s.LoadBalancerByName(ctx, "", "nope"); return err },
		func() error { _, err := s.LoadBalancerByName(ctx, "alice", "lb1"); return err },
	} {
		if err := lookup(); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown load balancer: %v, want ErrNotFound", err)
		}
	}
	dup := newLB(2, "127.0.0.1", 9100)
	dup.Name = "lb1"
	if err := s.CreateLoadBalancer(ctx, dup); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("duplicate name: %v, want ErrDuplicate", err)
	}
	if err := s.CreateLoadBalancer(ctx, newLB(3, "127.0.0.1", 9200)); err != nil {
		t.Fatal(err)
	}
	list, err := s.LoadBalancers(ctx)
	if err != nil || len(list) != 2 || list[0].ID != want.ID || len(list[1].Listeners) != 1 {
		t.Fatalf("list = %+v, %v", list, err)
	}
}

func TestListenerConflicts(t *testing.T) {
	for _, tc := range []struct {
		name             string
		oldBind, newBind string
		newPort          int
		conflict         bool
	}{
		{"same address, same port", "127.0.0.1", "127.0.0.1", 8081, true},
		{"same address, other port", "127.0.0.1", "127.0.0.1", 8082, false},
		{"other address, same port", "127.0.0.1", "127.0.0.2", 8081, false},
		{"new binds every IPv4 address", "127.0.0.1", "0.0.0.0", 8081, true},
		{"new binds every address", "127.0.0.1", "::", 8081, true},
		{"old binds every IPv4 address", "0.0.0.0", "127.0.0.5", 8081, true},
		{"old binds every address", "::", "::1", 8081, true},
		{"both wildcards, other port", "0.0.0.0", "::", 8082, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := openTest(t)
			ctx := context.Background()
			if err := s.CreateLoadBalancer(ctx, newLB(1, tc.oldBind, 8081)); err != nil {
				t.Fatal(err)
			}
			err := s.CreateLoadBalancer(ctx, newLB(2, tc.newBind, 9000, tc.newPort))
			var lce *ListenerConflictError
			if got := errors.As(err, &lce); got != tc.conflict {
				t.Fatalf("create: %v, want conflict %v", err, tc.conflict)
			}
			if tc.conflict {
				if lce.Name != "lb1" || lce.Port != 8081 || lce.BindAddr != tc.oldBind {
					t.Fatalf("conflict names %+v", lce)
				}
				if _, err := s.LoadBalancer(ctx, newLB(2, "", 0).ID); !errors.Is(err, ErrNotFound) {
					t.Fatalf("refused load balancer was recorded: %v", err)
				}
			}
		})
	}
}

func TestUpdateLoadBalancer(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, b := newLB(1, "127.0.0.1", 8081), newLB(2, "127.0.0.1", 8082)
	for _, lb := range []LoadBalancer{a, b} {
		if err := s.CreateLoadBalancer(ctx, lb); err != nil {
			t.Fatal(err)
		}
	}
	b.Listeners = []Listener{{Port: 8083, TargetPort: 81}, {Port: 8081, TargetPort: 80}}
	var lce *ListenerConflictError
	if err := s.UpdateLoadBalancer(ctx, b); !errors.As(err, &lce) || lce.ID != a.ID {
		t.Fatalf("update onto a's port: %v", err)
	}
	if got, _ := s.LoadBalancer(ctx, b.ID); !reflect.DeepEqual(got.Listeners, []Listener{{Port: 8082, TargetPort: 80}}) {
		t.Fatalf("refused update changed listeners: %+v", got.Listeners)
	}
	b.Listeners = []Listener{{Port: 8084, TargetPort: 81}, {Port: 8082, TargetPort: 82}}
	b.Algorithm, b.Health.Interval, b.ProxyProtocol = "least_connections", 10*time.Second, false
	if err := s.UpdateLoadBalancer(ctx, b); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LoadBalancer(ctx, b.ID); !reflect.DeepEqual(got, b) {
		t.Fatalf("after update\n%+v\nwant\n%+v", got, b)
	}
	// A load balancer keeping its own ports is no conflict with itself.
	if err := s.UpdateLoadBalancer(ctx, a); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateLoadBalancer(ctx, newLB(9, "127.0.0.1", 9999)); !errors.Is(err, ErrNotFound) {
		t.Fatalf("update of unknown: %v, want ErrNotFound", err)
	}
}

func TestTargetsAndDelete(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	a, b := newLB(1, "127.0.0.1", 8081), newLB(2, "127.0.0.1", 8082)
	for _, lb := range []LoadBalancer{a, b} {
		if err := s.CreateLoadBalancer(ctx, lb); err != nil {
			t.Fatal(err)
		}
	}
	inst := Target{ID: "i-00000000000000001", Kind: TargetInstance, Addr: "10.77.0.2", RegisteredAt: t0}
	ip := Target{ID: "127.0.0.1:9000", Kind: TargetIP, Addr: "127.0.0.1", Port: 9000, RegisteredAt: t0}
	for _, lb := range []LoadBalancer{a, b} {
		if err := s.AddTargets(ctx, lb.ID, []Target{inst, ip}); err != nil {
			t.Fatal(err)
		}
	}
	moved := inst
	moved.Addr, moved.RegisteredAt = "10.77.0.9", t0.Add(time.Hour)
	if err := s.AddTargets(ctx, a.ID, []Target{moved}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Targets(ctx, a.ID)
	if err != nil || len(got) != 2 || got[0].Addr != "10.77.0.9" || !got[0].RegisteredAt.Equal(t0) || got[1] != withLB(ip, a.ID) {
		t.Fatalf("targets = %+v, %v", got, err)
	}
	if err := s.AddTargets(ctx, "lb-00000000000000009", []Target{ip}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("add to unknown: %v, want ErrNotFound", err)
	}
	lbs, err := s.LoadBalancersOfInstance(ctx, inst.ID)
	if err != nil || !reflect.DeepEqual(lbs, []string{a.ID, b.ID}) {
		t.Fatalf("load balancers of instance = %v, %v", lbs, err)
	}

	if err := s.RemoveTargets(ctx, a.ID, []string{ip.ID, "127.0.0.1:1"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("remove with an unknown target: %v, want ErrNotFound", err)
	}
	if got, _ := s.Targets(ctx, a.ID); len(got) != 2 {
		t.Fatalf("a refused removal removed targets: %+v", got)
	}
	if err := s.RemoveTargets(ctx, a.ID, []string{inst.ID}); err != nil {
		t.Fatal(err)
	}
	if lbs, _ := s.LoadBalancersOfInstance(ctx, inst.ID); !reflect.DeepEqual(lbs, []string{b.ID}) {
		t.Fatalf("after removal: %v", lbs)
	}

	if err := s.DeleteLoadBalancer(ctx, b.ID); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteLoadBalancer(ctx, b.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v, want ErrNotFound", err)
	}
	if got, _ := s.Targets(ctx, b.ID); len(got) != 0 {
		t.Fatalf("targets outlived their load balancer: %+v", got)
	}
	// Its port is free again.
	if err := s.CreateLoadBalancer(ctx, newLB(3, "127.0.0.1", 8082)); err != nil {
		t.Fatal(err)
	}
}

func withLB(t Target, id string) Target {
	t.LoadBalancerID = id
	return t
}

// TestMigration2KeepsData opens a database made by migration 1 alone.
func TestMigration2KeepsData(t *testing.T) {
	s := openMigratedFrom(t, 1, `INSERT INTO images (id, name, state, created_at) VALUES ('ami-1', 'tiny', 'available', '')`)
	if _, err := s.Image(context.Background(), "ami-1"); err != nil {
		t.Fatalf("image lost in migration: %v", err)
	}
	if err := s.CreateLoadBalancer(context.Background(), newLB(1, "127.0.0.1", 80)); err != nil {
		t.Fatal(err)
	}
}

func TestLoadBalancerNamesArePerOwner(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	alices, bobs := newLB(1, "127.0.0.1", 8081), newLB(2, "127.0.0.1", 8082)
	alices.Owner, bobs.Owner, bobs.Name = "alice", "bob", alices.Name
	for _, lb := range []LoadBalancer{alices, bobs} {
		if err := s.CreateLoadBalancer(ctx, lb); err != nil {
			t.Fatal(err)
		}
	}
	for _, lb := range []LoadBalancer{alices, bobs} {
		got, err := s.LoadBalancerByName(ctx, lb.Owner, lb.Name)
		if err != nil || !reflect.DeepEqual(got, lb) {
			t.Fatalf("%s's %s: %+v, %v", lb.Owner, lb.Name, got, err)
		}
		mine, err := s.LoadBalancersOf(ctx, lb.Owner)
		if err != nil || len(mine) != 1 || mine[0].ID != lb.ID {
			t.Fatalf("%s's load balancers: %+v, %v", lb.Owner, mine, err)
		}
	}
	if _, err := s.LoadBalancerByName(ctx, "", alices.Name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a name of accounts' load balancers found among those of none: %v", err)
	}
	again := newLB(3, "127.0.0.1", 8083)
	again.Owner, again.Name = "alice", alices.Name
	if err := s.CreateLoadBalancer(ctx, again); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("alice's name twice: %v, want ErrDuplicate", err)
	}
	// Ports are the host's, whoever owns the load balancer holding one.
	carol := newLB(4, "127.0.0.1", 8081)
	carol.Owner = "carol"
	var lce *ListenerConflictError
	if err := s.CreateLoadBalancer(ctx, carol); !errors.As(err, &lce) || lce.Owner != "alice" || lce.ID != alices.ID {
		t.Fatalf("port of alice's load balancer: %v", err)
	}
	if all, err := s.LoadBalancers(ctx); err != nil || len(all) != 2 {
		t.Fatalf("every load balancer: %+v, %v", all, err)
	}
}

// TestMigration8KeepsData opens a database made by migrations 1 to 7: its
// load balancers keep their settings, listeners and targets, in their
// order, and become of no account.
func TestMigration8KeepsData(t *testing.T) {
	want := newLB(1, "0.0.0.0", 9002, 9001, 9003)
	want.ProxyProtocol = false
	s := openMigratedFrom(t, 7,
		`INSERT INTO load_balancers (id, name, bind_addr, algorithm, health_protocol, health_port, health_path, health_matcher,
			health_interval_ms, health_timeout_ms, healthy_threshold, unhealthy_threshold,
			deregistration_delay_ms, idle_timeout_ms, connect_timeout_ms, created_at)
			VALUES ('lb-00000000000000001', 'lb1', '0.0.0.0', 'round_robin', 'HTTP', 8080, '/health', '200-399',
			30000, 6000, 5, 2, 300000, 350000, 1500, '2026-01-02T03:04:06.000000000Z')`,
		`INSERT INTO lb_listeners (lb_id, port, target_port) VALUES
			('lb-00000000000000001', 9002, 80), ('lb-00000000000000001', 9001, 80), ('lb-00000000000000001', 9003, 80)`,
		`INSERT INTO lb_targets (lb_id, target_id, kind, addr, port, registered_at) VALUES
			('lb-00000000000000001', 'i-00000000000000002', 'instance', '10.77.0.2', 0, '2026-01-02T03:04:05.000000000Z'),
			('lb-00000000000000001', '127.0.0.1:9000', 'ip', '127.0.0.1', 9000, '2026-01-02T03:04:05.000000000Z'),
			('lb-00000000000000001', 'i-00000000000000001', 'instance', '10.77.0.3', 0, '2026-01-02T03:04:05.000000000Z')`)
	ctx := context.Background()
	got, err := s.LoadBalancerByName(ctx, "", "lb1")
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("after migration\n%+v, %v\nwant\n%+v", got, err, want)
	}
	targets, err := s.Targets(ctx, want.ID)
	if err != nil || len(targets) != 3 || targets[0].ID != "i-00000000000000002" || targets[1].Port != 9000 || targets[2].Addr != "10.77.0.3" {
		t.Fatalf("targets after migration: %+v, %v", targets, err)
	}
	for _, index := range []string{"lb_listeners_port", "lb_targets_target"} {
		var n int
		if err := s.db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'index' AND name = ?`, index).Scan(&n); err != nil || n != 1 {
			t.Fatalf("index %s: %d, %v", index, n, err)
		}
	}

	// The name is the owner's now, and the ports still everyone's.
	theirs := newLB(2, "127.0.0.1", 9100)
	theirs.Owner, theirs.Name = "alice", "lb1"
	if err := s.CreateLoadBalancer(ctx, theirs); err != nil {
		t.Fatal(err)
	}
	var lce *ListenerConflictError
	clash := newLB(3, "127.0.0.1", 9001)
	if err := s.CreateLoadBalancer(ctx, clash); !errors.As(err, &lce) || lce.ID != want.ID {
		t.Fatalf("port of the migrated load balancer: %v", err)
	}
	// Listeners and targets still hang on their load balancer.
	if _, err := s.db.Exec(`INSERT INTO lb_listeners (lb_id, port, target_port) VALUES ('lb-00000000000000009', 1, 1)`); err == nil {
		t.Fatal("a listener of no load balancer was recorded")
	}
	if err := s.DeleteLoadBalancer(ctx, want.ID); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Targets(ctx, want.ID); len(got) != 0 {
		t.Fatalf("targets outlived their migrated load balancer: %+v", got)
	}
	if err := s.CreateLoadBalancer(ctx, clash); err != nil {
		t.Fatalf("its port after delete: %v", err)
	}
}
