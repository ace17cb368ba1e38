package loadbalancer

import (
	"hash/fnv"
	"net/netip"
)

// pick returns the index in the rotation of the target a new connection
// tries first; later attempts take the ones after it.
func (b *Balancer) pick(a Algorithm, rt *rotation, client netip.Addr) int {
	n := len(rt.targets)
	switch a {
	case LeastConnections:
		// Ties go round robin, so equal targets share new connections.
		start := int(b.rr.Add(1) % uint64(n))
		best, bestActive := start, rt.targets[start].active.Load()
		for i := 1; i < n; i++ {
			j := (start + i) % n
			if a := rt.targets[j].active.Load(); a < bestActive {
				best, bestActive = j, a
			}
		}
		return best
	case SourceHash:
		return rendezvous(rt.targets, client.AsSlice())
	default:
		return int(b.rr.Add(1) % uint64(n))
	}
}

// rendezvous picks the target with the highest hash of (client, target):
// a client keeps its target while that target stays in rotation, and when
// a target leaves only its own clients move.
func rendezvous(ts []*target, client []byte) int {
	best, bestScore := 0, uint64(0)
	for i, t := range ts {
		h := fnv.New64a()
		h.Write(client)
		h.Write([]byte(t.ID))
		if s := h.Sum64(); i == 0 || s > bestScore {
			best, bestScore = i, s
		}
	}
	return best
}
