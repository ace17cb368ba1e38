package scheduler

import "cmp"

// score is what a strategy ranks a host by for one placement.
type score struct {
	// home: the placement group prefers this host (a partition's own host
	// before a host no partition holds yet).
	home bool
	// inUse: the host already holds instances, this request's included.
	inUse bool
	// share is the dominant share after placement: the larger of the
	// fractions of vCPUs and of memory in use once the instance is on the
	// host. A host is full when its scarcest resource runs out, so this is
	// how close it is to full. Taking it after placement makes an exact fit
	// score 1, the fullest possible.
	share float64
}

func scoreOf(n *node, size Resources, home bool) score {
	after := n.used.plus(size)
	return score{
		home:  home,
		inUse: n.used != Resources{},
		share: max(float64(after.VCPUs)/float64(n.limit.VCPUs), float64(after.MemoryMiB)/float64(n.limit.MemoryMiB)),
	}
}

// compare orders a before b (negative) when st would rather place on a.
// Equal scores fall back to the host ID, so a snapshot always gives the
// same plan.
//
// Binpack ranks any busy host above any empty one before it looks at
// shares. Shares are fractions of each host's own size, so after one
// instance a small empty host can look fuller than a large busy one;
// ranking by share alone would open hosts that did not need opening.
func compare(st Strategy, a *node, sa score, b *node, sb score) int {
	if sa.home != sb.home {
		return boolFirst(sa.home)
	}
	var c int
	if st == Spread {
		c = cmp.Compare(sa.share, sb.share)
	} else {
		if sa.inUse != sb.inUse {
			return boolFirst(sa.inUse)
		}
		c = cmp.Compare(sb.share, sa.share)
	}
	return cmp.Or(c, cmp.Compare(a.id, b.id))
}

// boolFirst orders two different flags, true first: -1 when a is the true one.
func boolFirst(a bool) int {
	if a {
		return -1
	}
	return 1
}
