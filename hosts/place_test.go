package hosts_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"kumo/hosts"
	"kumo/internal/errs"
	"kumo/scheduler"
	"kumo/store"
)

// TestConcurrentPlacementsNeverOverbook launches 50 instances at once on
// a fleet with room for 14, through two services on two database handles
// as two kumods would share one database. Exactly 14 must succeed and no
// host may hold more than its capacity.
func TestConcurrentPlacementsNeverOverbook(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	size := scheduler.Resources{VCPUs: 1, MemoryMiB: 512}
	// Room for instances of size: a (2 CPUs × 2) is short of vCPUs at 4,
	// b (6 × 1) at 6, c (4096 MiB, 512 reserved, × 0.5) of memory at 3,
	// d's reservation leaves 1.
	e.register(t, "a", 2, 8192, func(r *hosts.RegisterRequest) { r.CPURatio = 2 })
	e.register(t, "b", 6, 8192, func(r *hosts.RegisterRequest) { r.CPURatio = 1 })
	e.register(t, "c", 2, 4096, func(r *hosts.RegisterRequest) {
		r.MemoryRatio = 0.5
		r.Reserved.MemoryMiB = 512
	})
	e.register(t, "d", 2, 1024, func(r *hosts.RegisterRequest) { r.Reserved.MemoryMiB = 512 })
	const fit, launches = 14, 50
	services := []*hosts.Service{e.svc, e.open(t, openStore(t, e.path))}

	var wg sync.WaitGroup
	results := make([]error, launches)
	for i := range launches {
		wg.Go(func() {
			_, results[i] = placeOne(services[i%2], fmt.Sprintf("i-%02d", i), size)
		})
	}
	wg.Wait()
	placed := 0
	for i, err := range results {
		switch {
		case err == nil:
			placed++
		case !errors.Is(err, errs.InsufficientSpace):
			t.Errorf("launch %d: %v", i, err)
		}
	}
	if placed != fit {
		t.Errorf("%d launches placed, want %d", placed, fit)
	}
	assertWithinCapacity(t, e)
}

// assertWithinCapacity sums the claims on each host from the store and
// compares them with the host's capacity.
func assertWithinCapacity(t *testing.T, e *env) {
	t.Helper()
	all, err := e.svc.List(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range all {
		claims, err := e.store.Claims(context.Background(), h.ID)
		if err != nil {
			t.Fatal(err)
		}
		var used scheduler.Resources
		for _, c := range claims {
			used.VCPUs += c.VCPUs
			used.MemoryMiB += c.MemoryMiB
		}
		if used.VCPUs > h.Capacity.VCPUs || used.MemoryMiB > h.Capacity.MemoryMiB {
			t.Errorf("host %s holds %+v, past its capacity %+v", h.Name, used, h.Capacity)
		}
		if used != h.Used || len(claims) != h.Instances {
			t.Errorf("host %s lists %+v in %d claims; its claims add up to %+v in %d", h.Name, h.Used, h.Instances, used, len(claims))
		}
	}
}

func TestFailedPlacementClaimsNothing(t *testing.T) {
	e := newEnv(t, hosts.Config{CPURatio: 1})
	ctx := context.Background()
	a := e.register(t, "a", 4, 4096)
	size := scheduler.Resources{VCPUs: 1, MemoryMiB: 1024}

	as, err := e.placeN(t, 3, size)
	if err != nil || len(as) != 3 {
		t.Fatalf("place 3: %+v, %v", as, err)
	}
	// Two more do not fit together: neither is claimed.
	req := hosts.PlaceRequest{Request: scheduler.Request{Size: size, InstanceType: "t2.micro"}, InstanceIDs: []string{"i-x", "i-y"}}
	var ice *scheduler.InsufficientCapacityError
	if _, err := e.svc.Place(ctx, req); !errors.As(err, &ice) || ice.Fit != 1 || ice.Requested != 2 {
		t.Fatalf("place 2 on room for 1: %v", err)
	}
	if h, _ := e.svc.Get(ctx, a.ID); h.Instances != 3 {
		t.Fatalf("a failed placement left claims: %d instances", h.Instances)
	}

	// A launch that fails after its placement gives the capacity back.
	if err := e.svc.Release(ctx, "i-0", "i-1"); err != nil {
		t.Fatal(err)
	}
	if err := e.svc.Release(ctx, "i-0", "never-placed"); err != nil {
		t.Fatalf("release twice: %v", err)
	}
	if _, err := e.svc.Place(ctx, req); err != nil {
		t.Fatalf("place after release: %v", err)
	}
	assertWithinCapacity(t, e)

	if _, err := e.svc.Place(ctx, req); !errors.Is(err, hosts.ErrClaimed) {
		t.Fatalf("place instances that hold capacity: %v, want ErrClaimed", err)
	}
	bad := []hosts.PlaceRequest{
		{Request: scheduler.Request{Size: size, Count: 2}, InstanceIDs: []string{"i-z"}},
		{Request: scheduler.Request{Size: size}, InstanceIDs: []string{"i-z", "i-z"}},
		{Request: scheduler.Request{Size: size}, InstanceIDs: []string{""}},
		{Request: scheduler.Request{Size: size}},
	}
	for _, r := range bad {
		if _, err := e.svc.Place(ctx, r); !errors.Is(err, errs.InvalidParameter) {
			t.Errorf("Place(%+v): %v, want InvalidParameter", r, err)
		}
	}
}

func TestPlaceOnNamedHosts(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	ctx := context.Background()
	e.register(t, "a", 4, 8192)
	b := e.register(t, "b", 4, 8192)
	size := scheduler.Resources{VCPUs: 1, MemoryMiB: 4096}
	// Binpack would fill a first; a restart goes back to its own host.
	for i := range 2 {
		req := hosts.PlaceRequest{Request: scheduler.Request{Size: size}, InstanceIDs: []string{fmt.Sprintf("i-%d", i)}, Hosts: []string{b.ID}}
		if as, err := e.svc.Place(ctx, req); err != nil || as[0].HostID != b.ID {
			t.Fatalf("place on b: %+v, %v", as, err)
		}
	}
	req := hosts.PlaceRequest{Request: scheduler.Request{Size: size}, InstanceIDs: []string{"i-9"}, Hosts: []string{b.ID}}
	if _, err := e.svc.Place(ctx, req); !errors.Is(err, errs.InsufficientSpace) {
		t.Fatalf("place on a full b: %v", err)
	}
	req.Hosts = []string{b.ID, "h-00000000000000000"}
	if _, err := e.svc.Place(ctx, req); !errors.Is(err, hosts.ErrNotFound) {
		t.Fatalf("place on an unknown host: %v", err)
	}
}

// TestPlacementGroupsSeeClaims checks that a group's earlier claims reach
// the scheduler: a spread group never doubles up on a host, and a
// partition keeps to its hosts.
func TestPlacementGroupsSeeClaims(t *testing.T) {
	e := newEnv(t, hosts.Config{})
	ctx := context.Background()
	for _, name := range []string{"a", "b", "c"} {
		e.register(t, name, 8, 16384)
	}
	size := scheduler.Resources{VCPUs: 1, MemoryMiB: 512}
	spread := &scheduler.Group{Name: "web", Strategy: scheduler.GroupSpread}
	used := map[string]bool{}
	for i := range 3 {
		as, err := e.svc.Place(ctx, hosts.PlaceRequest{Request: scheduler.Request{Size: size, Group: spread}, InstanceIDs: []string{fmt.Sprintf("web-%d", i)}})
		if err != nil || used[as[0].HostID] {
			t.Fatalf("spread instance %d: %+v, %v; hosts so far %v", i, as, err, used)
		}
		used[as[0].HostID] = true
	}
	if _, err := e.svc.Place(ctx, hosts.PlaceRequest{Request: scheduler.Request{Size: size, Group: spread}, InstanceIDs: []string{"web-3"}}); !errors.Is(err, errs.InsufficientSpace) {
		t.Fatalf("a fourth spread instance on three hosts: %v", err)
	}

	part := &scheduler.Group{Name: "hdfs", Strategy: scheduler.GroupPartition, Partitions: 3}
	first, err := e.svc.Place(ctx, hosts.PlaceRequest{Request: scheduler.Request{Size: size, Group: part, Partition: 2}, InstanceIDs: []string{"hdfs-0"}})
	if err != nil || first[0].Partition != 2 {
		t.Fatalf("partition 2: %+v, %v", first, err)
	}
	claims, _ := e.store.Claims(ctx, first[0].HostID)
	if i := indexOf(claims, "hdfs-0"); i < 0 || claims[i].Group != "hdfs" || claims[i].Partition != 2 {
		t.Fatalf("claim of hdfs-0: %+v", claims)
	}
	for i := range 4 {
		as, err := e.svc.Place(ctx, hosts.PlaceRequest{Request: scheduler.Request{Size: size, Group: part, Partition: 1}, InstanceIDs: []string{fmt.Sprintf("hdfs-%d", i+1)}})
		if err != nil || as[0].HostID == first[0].HostID {
			t.Fatalf("partition 1 instance %d: %+v, %v; partition 2 holds %s", i, as, err, first[0].HostID)
		}
	}
}

func indexOf(claims []store.Claim, instance string) int {
	for i, c := range claims {
		if c.InstanceID == instance {
			return i
		}
	}
	return -1
}

func TestAdoptRecordsRunningInstances(t *testing.T) {
	e := newEnv(t, hosts.Config{CPURatio: 1})
	ctx := context.Background()
	a := e.register(t, "a", 2, 2048)
	// Found running on a: three instances of 1 vCPU, one more than fits.
	var found []store.Claim
	for i := range 3 {
		found = append(found, store.Claim{InstanceID: fmt.Sprintf("i-%d", i), HostID: a.ID, VCPUs: 1, MemoryMiB: 256})
	}
	if n, err := e.svc.Adopt(ctx, found...); err != nil || n != 3 {
		t.Fatalf("adopt: %d, %v", n, err)
	}
	if n, err := e.svc.Adopt(ctx, found...); err != nil || n != 0 {
		t.Fatalf("adopt again: %d, %v; want nothing new", n, err)
	}
	if h, _ := e.svc.Get(ctx, "a"); h.Used != (scheduler.Resources{VCPUs: 3, MemoryMiB: 768}) {
		t.Fatalf("usage after adopting: %+v", h.Used)
	}
	if _, err := placeOne(e.svc, "i-new", scheduler.Resources{VCPUs: 1, MemoryMiB: 1}); !errors.Is(err, errs.InsufficientSpace) {
		t.Fatalf("placement on an overfull host: %v", err)
	}
	if _, err := e.svc.Adopt(ctx, store.Claim{InstanceID: "i-9", HostID: "h-00000000000000000", VCPUs: 1, MemoryMiB: 1}); !errors.Is(err, hosts.ErrNotFound) {
		t.Fatalf("adopt on an unknown host: %v", err)
	}
}
