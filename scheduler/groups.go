package scheduler

import (
	"cmp"
	"maps"
	"slices"
)

// cluster puts the whole request on one host: the host the group already
// lives on, or else the best host with room for all of it.
func (p *placement) cluster() ([]Assignment, error) {
	home := p.clusterHome()
	admit := func(n *node) Reason {
		if home != nil && n != home {
			return ReasonClusterElsewhere
		}
		return ""
	}
	total := p.req.Size.times(p.req.Count)
	n := p.pick(total, admit, nil)
	if n == nil {
		fit := 0
		for _, n := range p.eligible {
			if admit(n) == "" {
				fit = max(fit, n.room(p.req.Size))
			}
		}
		return nil, p.insufficient(fit, total, admit)
	}
	out := make([]Assignment, p.req.Count)
	for i := range out {
		out[i] = Assignment{HostID: n.id}
	}
	return out, nil
}

// clusterHome is the host holding the group's instances, nil for a new
// group. Should the group ever sit on several hosts (a host was evacuated
// by hand), it grows where most of it already is. The home is looked for
// among all hosts: if it is draining or down, the group cannot grow, and
// the error says so.
func (p *placement) clusterHome() *node {
	var home *node
	for i := range p.all {
		n := &p.all[i]
		if n.members == 0 {
			continue
		}
		if home == nil || n.members > home.members || n.members == home.members && n.id < home.id {
			home = n
		}
	}
	return home
}

// spread puts each instance on a host holding no other instance of the
// group, and no more than MaxSpreadPerZone of the group in any zone.
// Taking any qualifying host, one instance at a time, places as many
// instances as the best order could: a host stays qualified until it is
// taken, and a zone's limit caps how many of its hosts are taken, not
// which. So a refusal here means no order would have done better.
func (p *placement) spread() ([]Assignment, error) {
	zones := map[string]int{}
	for _, n := range p.all {
		zones[n.zone] += n.members
	}
	if err := p.spreadLimit(zones); err != nil {
		return nil, err
	}
	admit := func(n *node) Reason {
		switch {
		case n.members > 0:
			return ReasonGroupMember
		case zones[n.zone] >= MaxSpreadPerZone:
			return ReasonZoneLimit
		}
		return ""
	}
	return p.each(admit, func(n *node) { zones[n.zone]++ })
}

// spreadLimit refuses a request the zone limit alone rules out, whatever
// the hosts: the zone the request names, or every zone that has a host.
func (p *placement) spreadLimit(zones map[string]int) error {
	names := []string{p.req.Zone}
	if p.req.Zone == "" {
		names = slices.Sorted(maps.Keys(zones))
	}
	// With no hosts at all there is no zone to blame: the capacity error
	// says there are no hosts.
	if len(names) == 0 {
		return nil
	}
	room := 0
	counts := make([]ZoneCount, len(names))
	for i, z := range names {
		counts[i] = ZoneCount{Zone: z, Instances: zones[z]}
		room += max(0, MaxSpreadPerZone-zones[z])
	}
	if p.req.Count <= room {
		return nil
	}
	return &GroupLimitError{Group: p.req.Group.Name, Requested: p.req.Count, Room: room, Zones: counts}
}

// partition puts each instance in a partition, on a host that holds no
// other partition of the group. Within a partition, hosts it already
// holds come first: claiming a fresh host for one partition takes it away
// from all the others.
func (p *placement) partition() ([]Assignment, error) {
	k := p.req.Group.Partitions
	filled := make([]int, k+1) // instances per partition, 1..k
	for _, n := range p.all {
		// A partition beyond k (the group was recreated smaller) still
		// keeps its hosts from the others, but holds no partition to fill.
		if n.members > 0 && n.partition >= 1 && n.partition <= k {
			filled[n.partition] += n.members
		}
	}
	out := make([]Assignment, 0, p.req.Count)
	for range p.req.Count {
		order := p.partitionOrder(filled)
		var n *node
		var part int
		for _, part = range order {
			if n = p.pick(p.req.Size, partitionAdmit(part), partitionHome(part)); n != nil {
				break
			}
		}
		if n == nil {
			return nil, p.insufficient(len(out), p.req.Size, partitionAdmit(order[0]))
		}
		n.take(p.req.Size, part)
		filled[part]++
		out = append(out, Assignment{HostID: n.id, Partition: part})
	}
	return out, nil
}

// partitionOrder lists the partitions to try for the next instance: the
// one the request names, or all of them, emptiest first, so that the
// group's instances are spread evenly over its partitions as EC2 does.
func (p *placement) partitionOrder(filled []int) []int {
	if p.req.Partition != 0 {
		return []int{p.req.Partition}
	}
	order := make([]int, 0, len(filled)-1)
	for part := 1; part < len(filled); part++ {
		order = append(order, part)
	}
	slices.SortStableFunc(order, func(a, b int) int { return cmp.Compare(filled[a], filled[b]) })
	return order
}

func partitionAdmit(part int) func(*node) Reason {
	return func(n *node) Reason {
		if n.members > 0 && n.partition != part {
			return ReasonOtherPartition
		}
		return ""
	}
}

func partitionHome(part int) func(*node) bool {
	return func(n *node) bool { return n.members > 0 && n.partition == part }
}
