package scheduler

import (
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"reflect"
	"slices"
	"testing"
)

// The property tests place random requests on random fleets and check
// what must hold whatever the fleet. The oracles here are written apart
// from the code under test: they look at hosts and assignments only.

var (
	propZones = []string{"local-a", "local-b", "local-c"}
	propArchs = []string{"x86_64", "x86_64", "x86_64", "aarch64"}
)

func randomHost(r *rand.Rand, i int, group *Group) Host {
	h := Host{
		ID:       fmt.Sprintf("h%03d", i),
		Zone:     propZones[r.IntN(len(propZones))],
		Arch:     propArchs[r.IntN(len(propArchs))],
		State:    []HostState{HostUp, HostUp, HostUp, HostUp, HostUp, HostUp, HostDraining, HostDown}[r.IntN(8)],
		Capacity: Resources{1 + r.IntN(16), int64(1024 * (1 + r.IntN(32)))},
		Reserved: Resources{r.IntN(2), int64(256 * r.IntN(4))},
	}
	h.CPURatio = []float64{0, 1, 1.5, 2, 4}[r.IntN(5)]
	h.MemoryRatio = []float64{0, 1, 1.25}[r.IntN(3)]
	limit := h.Effective()
	if r.IntN(3) > 0 { // a third of the hosts are empty
		// Up to a little over the limit: a host can be overcommitted by
		// hand, and must then take nothing.
		h.Used = Resources{r.IntN(limit.VCPUs*11/10 + 1), r.Int64N(limit.MemoryMiB*11/10 + 1)}
	}
	// A cluster group lives on one host or so; the others' members are
	// spread about.
	if group != nil && r.IntN(100) < map[GroupStrategy]int{GroupCluster: 3, GroupSpread: 30, GroupPartition: 30}[group.Strategy] {
		m := Membership{Instances: 1 + r.IntN(3)}
		switch group.Strategy {
		case GroupSpread:
			m.Instances = 1
		case GroupPartition:
			m.Partition = 1 + r.IntN(group.Partitions)
		}
		h.Groups = map[string]Membership{group.Name: m, "other": {Instances: 2}}
	}
	return h
}

func randomRequest(r *rand.Rand) Request {
	req := Request{
		Count:    1 + r.IntN(8),
		Size:     Resources{1 + r.IntN(6), int64(256 * (1 + r.IntN(16)))},
		Strategy: []Strategy{"", Binpack, Spread}[r.IntN(3)],
	}
	if r.IntN(2) == 0 {
		req.Zone = append(propZones, "local-z")[r.IntN(len(propZones)+1)]
	}
	if r.IntN(4) == 0 {
		req.Arch = propArchs[r.IntN(len(propArchs))]
	} else if r.IntN(4) == 0 {
		req.Image.Arch = propArchs[r.IntN(len(propArchs))]
	}
	switch r.IntN(5) {
	case 0:
		req.Group = &Group{Name: "g", Strategy: GroupCluster}
		req.Count = 1 + r.IntN(3) // the whole request must fit one host
	case 1:
		req.Group = &Group{Name: "g", Strategy: GroupSpread}
	case 2:
		req.Group = &Group{Name: "g", Strategy: GroupPartition, Partitions: 1 + r.IntN(MaxPartitions)}
		if r.IntN(2) == 0 {
			req.Partition = 1 + r.IntN(req.Group.Partitions)
		}
	}
	return req
}

func cloneHosts(hosts []Host) []Host {
	out := make([]Host, len(hosts))
	for i, h := range hosts {
		h.Groups = maps.Clone(h.Groups)
		out[i] = h
	}
	return out
}

// eligible is the oracle for the filters.
func eligible(h *Host, req *Request) bool {
	arch := req.Arch
	if arch == "" {
		arch = req.Image.Arch
	}
	return h.State == HostUp && (req.Zone == "" || h.Zone == req.Zone) && (arch == "" || h.Arch == arch)
}

// freeFor is how many instances of size h can take on top of used.
func freeFor(h *Host, used, size Resources) int {
	limit := h.Effective()
	c, m := limit.VCPUs-used.VCPUs, limit.MemoryMiB-used.MemoryMiB
	if c < 0 || m < 0 {
		return 0
	}
	return min(c/size.VCPUs, int(m/size.MemoryMiB))
}

type propCase struct {
	hosts []Host
	req   Request
	got   []Assignment
	err   error
	byID  map[string]*Host
}

func TestPlacementProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(2024, 7))
	placed, failed := 0, 0
	for i := range 500 {
		req := randomRequest(r)
		hosts := make([]Host, r.IntN(40))
		for j := range hosts {
			hosts[j] = randomHost(r, j, req.Group)
		}
		before := cloneHosts(hosts)
		got, err := Place(hosts, req)
		c := &propCase{hosts: hosts, req: req, got: got, err: err, byID: map[string]*Host{}}
		for j := range hosts {
			c.byID[hosts[j].ID] = &hosts[j]
		}
		t.Run(fmt.Sprint(i), func(t *testing.T) {
			if !reflect.DeepEqual(hosts, before) {
				t.Fatal("Place changed the hosts")
			}
			c.checkAllOrNothing(t)
			switch req.groupStrategy() {
			case GroupCluster:
				c.checkClusterOutcome(t)
			case GroupSpread:
				c.checkSpreadOutcome(t)
			}
			if err != nil {
				return
			}
			c.checkCapacity(t)
			switch req.groupStrategy() {
			case "":
				c.checkBinpackOpensNoHost(t)
			case GroupCluster:
				c.checkCluster(t)
			case GroupSpread:
				c.checkSpreadGroup(t)
			case GroupPartition:
				c.checkPartitions(t)
			}
		})
		if err == nil {
			placed++
		} else {
			failed++
		}
	}
	// The generator must exercise both outcomes, or the checks above prove
	// little.
	if placed < 100 || failed < 100 {
		t.Errorf("%d requests placed and %d refused: the random fleets are lopsided", placed, failed)
	}
}

// checkAllOrNothing: an error comes alone and is typed; success places
// every instance.
func (c *propCase) checkAllOrNothing(t *testing.T) {
	if c.err != nil {
		if c.got != nil {
			t.Fatalf("error %v with assignments %v", c.err, c.got)
		}
		var ice *InsufficientCapacityError
		var gle *GroupLimitError
		if !errors.As(c.err, &ice) && !errors.As(c.err, &gle) {
			t.Fatalf("error %v (%T) is neither a capacity nor a group limit error", c.err, c.err)
		}
		if ice != nil && (ice.Fit >= c.req.Count || len(ice.Rejected) != len(c.hosts)) {
			t.Fatalf("capacity error says %d of %d fit with %d of %d hosts explained", ice.Fit, c.req.Count, len(ice.Rejected), len(c.hosts))
		}
	} else if len(c.got) != c.req.Count {
		t.Fatalf("%d assignments for %d instances", len(c.got), c.req.Count)
	}
	// Without a group, instances of one size fit wherever a host has
	// room for them, so the request fails exactly when the hosts' room adds
	// up to less than it asks, and the error says how much there was.
	if c.req.Group == nil {
		room := 0
		for i := range c.hosts {
			if eligible(&c.hosts[i], &c.req) {
				room += freeFor(&c.hosts[i], c.hosts[i].Used, c.req.Size)
			}
		}
		var ice *InsufficientCapacityError
		switch {
		case room >= c.req.Count && c.err != nil:
			t.Fatalf("room for %d, %d refused: %v", room, c.req.Count, c.err)
		case room < c.req.Count && !errors.As(c.err, &ice):
			t.Fatalf("room for %d, %d asked, error %v", room, c.req.Count, c.err)
		case ice != nil && ice.Fit != room:
			t.Fatalf("error says %d fit, there was room for %d", ice.Fit, room)
		}
	}
}

// checkCapacity: every instance lands on a host that passes the filters,
// and no host ends above its effective capacity.
func (c *propCase) checkCapacity(t *testing.T) {
	add := map[string]Resources{}
	for _, a := range c.got {
		h := c.byID[a.HostID]
		if h == nil {
			t.Fatalf("assigned to unknown host %q", a.HostID)
		}
		if !eligible(h, &c.req) {
			t.Fatalf("assigned to %s (%s, %s, %s) for zone %q arch %q/%q", h.ID, h.State, h.Zone, h.Arch, c.req.Zone, c.req.Arch, c.req.Image.Arch)
		}
		add[a.HostID] = add[a.HostID].plus(c.req.Size)
	}
	for id, more := range add {
		h := c.byID[id]
		total, limit := h.Used.plus(more), h.Effective()
		if total.VCPUs > limit.VCPUs || total.MemoryMiB > limit.MemoryMiB {
			t.Fatalf("host %s at %+v, effective capacity %+v", id, total, limit)
		}
	}
}

// checkBinpackOpensNoHost replays the plan: under binpack an empty host is
// only taken when no busy host has room.
func (c *propCase) checkBinpackOpensNoHost(t *testing.T) {
	if c.req.Strategy == Spread {
		return
	}
	used := map[string]Resources{}
	for _, h := range c.hosts {
		used[h.ID] = h.Used
	}
	for i, a := range c.got {
		if used[a.HostID] == (Resources{}) {
			for j := range c.hosts {
				h := &c.hosts[j]
				if used[h.ID] != (Resources{}) && eligible(h, &c.req) && freeFor(h, used[h.ID], c.req.Size) > 0 {
					t.Fatalf("instance %d opened empty host %s while busy host %s had room", i, a.HostID, h.ID)
				}
			}
		}
		used[a.HostID] = used[a.HostID].plus(c.req.Size)
	}
}

func (c *propCase) checkCluster(t *testing.T) {
	home, most := "", 0
	for _, h := range c.hosts {
		if m := h.Groups["g"].Instances; m > most || m == most && m > 0 && h.ID < home {
			home, most = h.ID, m
		}
	}
	for _, a := range c.got {
		if a.HostID != c.got[0].HostID {
			t.Fatalf("cluster group on %s and %s", c.got[0].HostID, a.HostID)
		}
		if home != "" && a.HostID != home {
			t.Fatalf("cluster group living on %s grew on %s", home, a.HostID)
		}
	}
}

func (c *propCase) checkSpreadGroup(t *testing.T) {
	perZone := map[string]int{}
	for _, h := range c.hosts {
		perZone[h.Zone] += h.Groups["g"].Instances
	}
	seen := map[string]bool{}
	for _, a := range c.got {
		h := c.byID[a.HostID]
		if seen[a.HostID] || h.Groups["g"].Instances > 0 {
			t.Fatalf("two instances of the spread group on host %s", a.HostID)
		}
		seen[a.HostID] = true
		if perZone[h.Zone]++; perZone[h.Zone] > MaxSpreadPerZone {
			t.Fatalf("zone %s holds %d instances of the spread group", h.Zone, perZone[h.Zone])
		}
	}
}

func (c *propCase) checkPartitions(t *testing.T) {
	partOf := map[string]int{}
	for _, h := range c.hosts {
		if m := h.Groups["g"]; m.Instances > 0 {
			partOf[h.ID] = m.Partition
		}
	}
	for _, a := range c.got {
		if a.Partition < 1 || a.Partition > c.req.Group.Partitions {
			t.Fatalf("partition %d of %d", a.Partition, c.req.Group.Partitions)
		}
		if c.req.Partition != 0 && a.Partition != c.req.Partition {
			t.Fatalf("partition %d asked, %d given", c.req.Partition, a.Partition)
		}
		if p, ok := partOf[a.HostID]; ok && p != a.Partition {
			t.Fatalf("host %s holds partitions %d and %d", a.HostID, p, a.Partition)
		}
		partOf[a.HostID] = a.Partition
	}
}

// checkClusterOutcome: a cluster group fails exactly when no host it may
// use has room for the whole request; the error gives the most one host
// could take.
func (c *propCase) checkClusterOutcome(t *testing.T) {
	home, most := "", 0
	for _, h := range c.hosts {
		if m := h.Groups["g"].Instances; m > most || m == most && m > 0 && h.ID < home {
			home, most = h.ID, m
		}
	}
	best := 0
	for i := range c.hosts {
		h := &c.hosts[i]
		if eligible(h, &c.req) && (home == "" || h.ID == home) {
			best = max(best, freeFor(h, h.Used, c.req.Size))
		}
	}
	var ice *InsufficientCapacityError
	switch {
	case best >= c.req.Count && c.err != nil:
		t.Fatalf("a host has room for %d, %d refused: %v", best, c.req.Count, c.err)
	case best < c.req.Count && !errors.As(c.err, &ice):
		t.Fatalf("no host has room for %d (at most %d), error %v", c.req.Count, best, c.err)
	case ice != nil && ice.Fit != best:
		t.Fatalf("error says %d fit on one host, the most is %d", ice.Fit, best)
	}
}

// checkSpreadOutcome: a spread group is refused for its limit exactly when
// the zones it may use lack room, whatever the hosts, and for capacity
// exactly when there are fewer usable hosts than instances, counting at
// most the room left in each zone.
func (c *propCase) checkSpreadOutcome(t *testing.T) {
	members := map[string]int{}
	hosts := map[string]int{} // per zone: hosts that could take one instance
	for i := range c.hosts {
		h := &c.hosts[i]
		members[h.Zone] += h.Groups["g"].Instances
		if _, ok := hosts[h.Zone]; !ok {
			hosts[h.Zone] = 0
		}
		if eligible(h, &c.req) && h.Groups["g"].Instances == 0 && freeFor(h, h.Used, c.req.Size) > 0 {
			hosts[h.Zone]++
		}
	}
	zones := []string{c.req.Zone}
	if c.req.Zone == "" {
		zones = slices.Collect(maps.Keys(hosts))
	}
	room, usable := 0, 0
	for _, z := range zones {
		left := max(0, MaxSpreadPerZone-members[z])
		room += left
		usable += min(left, hosts[z])
	}
	var gle *GroupLimitError
	var ice *InsufficientCapacityError
	switch {
	case len(zones) > 0 && room < c.req.Count:
		if !errors.As(c.err, &gle) || gle.Room != room {
			t.Fatalf("room for %d in the zones, %d asked, error %v", room, c.req.Count, c.err)
		}
	case usable < c.req.Count:
		if !errors.As(c.err, &ice) || ice.Fit != usable {
			t.Fatalf("%d usable hosts, %d asked, error %v", usable, c.req.Count, c.err)
		}
	case c.err != nil:
		t.Fatalf("%d usable hosts, %d asked, refused: %v", usable, c.req.Count, c.err)
	}
}
