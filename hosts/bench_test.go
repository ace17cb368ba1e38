package hosts_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"sync/atomic"
	"testing"

	"kumo/hosts"
	"kumo/scheduler"
	"kumo/store"
)

// benchFleet registers 1 000 simulated hosts of 64 cores and 512 GiB in
// three zones and records 50 000 instances of 2 vCPUs and 4 GiB on them,
// dealt at random, some in a spread group.
func benchFleet(b *testing.B) *env {
	e := newEnv(b, hosts.Config{})
	ids := make([]string, 1000)
	for i := range ids {
		ids[i] = e.register(b, fmt.Sprintf("node%04d", i), 64, 512*1024, func(r *hosts.RegisterRequest) {
			r.Zone = []string{"local-a", "local-b", "local-c"}[i%3]
			r.Reserved = scheduler.Resources{VCPUs: 2, MemoryMiB: 8192}
		}).ID
	}
	r := rand.New(rand.NewPCG(1, 2))
	claims := make([]store.Claim, 50000)
	for i := range claims {
		claims[i] = store.Claim{InstanceID: fmt.Sprintf("i-%017x", i), HostID: ids[r.IntN(len(ids))], VCPUs: 2, MemoryMiB: 4096}
		if i < 5 {
			claims[i].Group = "web"
		}
	}
	if _, err := e.svc.Adopt(context.Background(), claims...); err != nil {
		b.Fatal(err)
	}
	return e
}

// BenchmarkPlace measures a placement's whole transaction on the fleet of
// benchFleet: reading every host's usage, placing, writing the claims.
// Claims accumulate across iterations, a few percent of the fleet at most.
func BenchmarkPlace(b *testing.B) {
	e := benchFleet(b)
	ctx := context.Background()
	size := scheduler.Resources{VCPUs: 2, MemoryMiB: 4096}
	var seq atomic.Int64
	idList := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("bench-%d", seq.Add(1))
		}
		return out
	}
	cases := []struct {
		name string
		req  scheduler.Request
	}{
		{"binpack/1", scheduler.Request{Count: 1, Size: size}},
		{"spread/1", scheduler.Request{Count: 1, Size: size, Strategy: scheduler.Spread}},
		{"binpack/10", scheduler.Request{Count: 10, Size: size}},
		{"zone/10", scheduler.Request{Count: 10, Size: size, Zone: "local-b"}},
		{"spread-group/1", scheduler.Request{Count: 1, Size: size, Group: &scheduler.Group{Name: "web", Strategy: scheduler.GroupSpread}}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				req := hosts.PlaceRequest{Request: c.req, InstanceIDs: idList(c.req.Count)}
				if _, err := e.svc.Place(ctx, req); err != nil {
					b.Fatal(err)
				}
				if c.req.Group != nil {
					b.StopTimer()
					// The group's limit would end the benchmark early.
					if err := e.svc.Release(ctx, req.InstanceIDs...); err != nil {
						b.Fatal(err)
					}
					b.StartTimer()
				}
			}
		})
	}
	// Many launches at once: they queue on the store's write lock, so this
	// is the fleet's throughput, not a single launch's latency.
	b.Run("parallel/1", func(b *testing.B) {
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				req := hosts.PlaceRequest{Request: scheduler.Request{Size: size}, InstanceIDs: idList(1)}
				if _, err := e.svc.Place(ctx, req); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
	b.Run("list", func(b *testing.B) {
		for b.Loop() {
			if all, err := e.svc.List(ctx); err != nil || len(all) != 1000 {
				b.Fatalf("%d hosts, %v", len(all), err)
			}
		}
	})
}
