package loadbalancer

import (
	"fmt"
	"net/netip"
	"testing"
)

func fromIP(ip string) netip.Addr { return netip.MustParseAddr(ip) }

func rotationOf(ids ...string) *rotation {
	rt := &rotation{}
	for _, id := range ids {
		rt.targets = append(rt.targets, &target{Target: Target{ID: id}})
	}
	return rt
}

func TestRoundRobinVisitsEachInTurn(t *testing.T) {
	b := &Balancer{}
	rt := rotationOf("a", "b", "c")
	counts := map[string]int{}
	prev := -1
	for i := 0; i < 30; i++ {
		j := b.pick(RoundRobin, rt, fromIP("192.0.2.1"))
		if j == prev {
			t.Fatalf("pick %d repeated target %d", i, j)
		}
		prev = j
		counts[rt.targets[j].ID]++
	}
	for _, id := range []string{"a", "b", "c"} {
		if counts[id] != 10 {
			t.Fatalf("counts %v, want 10 each", counts)
		}
	}
}

func TestLeastConnectionsPicksTheLeastBusy(t *testing.T) {
	b := &Balancer{}
	rt := rotationOf("a", "b", "c")
	rt.targets[0].active.Store(5)
	rt.targets[1].active.Store(2)
	rt.targets[2].active.Store(7)
	for i := 0; i < 10; i++ {
		if j := b.pick(LeastConnections, rt, fromIP("192.0.2.1")); rt.targets[j].ID != "b" {
			t.Fatalf("picked %s, want b", rt.targets[j].ID)
		}
	}
	// Ties are shared rather than always going to the first target.
	rt.targets[0].active.Store(2)
	seen := map[string]bool{}
	for i := 0; i < 10; i++ {
		seen[rt.targets[b.pick(LeastConnections, rt, fromIP("192.0.2.1"))].ID] = true
	}
	if !seen["a"] || !seen["b"] || seen["c"] {
		t.Fatalf("ties went to %v, want a and b", seen)
	}
}

func TestSourceHashIsStickyAndMovesOnlyTheLeaversClients(t *testing.T) {
	b := &Balancer{}
	full := rotationOf("a", "b", "c", "d")
	before := map[string]string{}
	spread := map[string]int{}
	for i := 0; i < 400; i++ {
		ip := fmt.Sprintf("198.51.%d.%d", i/200, i%200+1)
		id := full.targets[b.pick(SourceHash, full, fromIP(ip))].ID
		if again := full.targets[b.pick(SourceHash, full, fromIP(ip))].ID; again != id {
			t.Fatalf("%s went to %s then %s", ip, id, again)
		}
		before[ip] = id
		spread[id]++
	}
	for id, n := range spread {
		if n < 50 {
			t.Errorf("target %s got only %d of 400 clients: %v", id, n, spread)
		}
	}
	without := rotationOf("a", "b", "d")
	for ip, was := range before {
		now := without.targets[b.pick(SourceHash, without, fromIP(ip))].ID
		if was != "c" && now != was {
			t.Fatalf("%s moved from %s to %s though %s stayed", ip, was, now, was)
		}
	}
}
