package scheduler

import "sync"

// Assignment is where one instance goes.
type Assignment struct {
	HostID string
	// Partition is the partition the instance joins, for a partition
	// group; 0 otherwise.
	Partition int
}

// Place returns one assignment per requested instance, in order, or an
// error and no assignments: a request is placed whole or not at all.
// Errors are *InvalidRequestError, *GroupLimitError or
// *InsufficientCapacityError.
//
// Each instance sees the capacity and group members the earlier ones took.
// Hosts are filtered once, then each instance costs one pass over the
// hosts that passed. hosts is not modified.
func Place(hosts []Host, req Request) ([]Assignment, error) {
	if err := req.validate(); err != nil {
		return nil, err
	}
	if req.Strategy == "" {
		req.Strategy = Binpack
	}
	p := newPlacement(hosts, &req)
	defer p.release()
	switch req.groupStrategy() {
	case GroupCluster:
		return p.cluster()
	case GroupSpread:
		return p.spread()
	case GroupPartition:
		return p.partition()
	}
	return p.each(func(*node) Reason { return "" }, func(*node) {})
}

// placement is one Place call's working state.
type placement struct {
	req      *Request
	all      []node  // every host, in the caller's order
	eligible []*node // the hosts no filter ruled out
}

// placements keeps the working state of finished calls for the next: a
// fleet of a thousand hosts is 100 KB a call, and at thousands of calls a
// second the garbage collector would otherwise do more work than Place.
var placements = sync.Pool{New: func() any { return new(placement) }}

func newPlacement(hosts []Host, req *Request) *placement {
	p := placements.Get().(*placement)
	p.req = req
	if cap(p.all) < len(hosts) {
		p.all = make([]node, len(hosts))
		p.eligible = make([]*node, 0, len(hosts))
	}
	p.all, p.eligible = p.all[:len(hosts)], p.eligible[:0]
	group := req.groupName()
	for i := range hosts {
		n := &p.all[i]
		n.init(&hosts[i], group)
		n.reason = runFilters(&hosts[i], req)
		if n.reason == "" {
			p.eligible = append(p.eligible, n)
		}
	}
	return p
}

// release gives the working state back for another call; nothing of it
// may be used after.
func (p *placement) release() {
	p.req = nil
	placements.Put(p)
}

// pick returns the best eligible host to take size more, among those admit
// finds no reason against, or nil. home marks hosts the group prefers; nil
// prefers none. This is the one pass over the hosts an instance costs.
func (p *placement) pick(size Resources, admit func(*node) Reason, home func(*node) bool) *node {
	var best *node
	var bestScore score
	for _, n := range p.eligible {
		if n.short(size) != "" || admit(n) != "" {
			continue
		}
		s := scoreOf(n, size, home != nil && home(n))
		if best == nil || compare(p.req.Strategy, n, s, best, bestScore) < 0 {
			best, bestScore = n, s
		}
	}
	return best
}

// each places the request's instances one by one, each on the best host
// admit accepts; took hears of every choice.
func (p *placement) each(admit func(*node) Reason, took func(*node)) ([]Assignment, error) {
	out := make([]Assignment, 0, p.req.Count)
	for range p.req.Count {
		n := p.pick(p.req.Size, admit, nil)
		if n == nil {
			return nil, p.insufficient(len(out), p.req.Size, admit)
		}
		n.take(p.req.Size, 0)
		took(n)
		out = append(out, Assignment{HostID: n.id})
	}
	return out, nil
}

// insufficient builds the capacity error for a request of which fit
// instances could be placed, with each host's reason for refusing size
// more: a filter's, the group's (admit), or the capacity it lacks.
func (p *placement) insufficient(fit int, size Resources, admit func(*node) Reason) error {
	rejected := make(map[string]Reason, len(p.all))
	for i := range p.all {
		n := &p.all[i]
		r := n.reason
		if r == "" {
			r = admit(n)
		}
		if r == "" {
			r = n.short(size)
		}
		rejected[n.id] = r
	}
	return &InsufficientCapacityError{
		InstanceType:  p.req.InstanceType,
		Size:          p.req.Size,
		Zone:          p.req.Zone,
		Group:         p.req.groupName(),
		GroupStrategy: p.req.groupStrategy(),
		Requested:     p.req.Count,
		Fit:           fit,
		Rejected:      rejected,
	}
}
