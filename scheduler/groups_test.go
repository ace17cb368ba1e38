package scheduler

import (
	"errors"
	"slices"
	"testing"

	"kumo/internal/errs"
)

// groupCase is one placement into a group, on hosts of 4 vCPUs and 4096
// MiB unless the case says otherwise, with instances of 1 vCPU and 512 MiB.
type groupCase struct {
	name      string
	hosts     []Host
	group     Group
	zone      string
	partition int
	strategy  Strategy
	count     int
	want      []string // host per instance; nil when it must fail
	parts     []int    // partition per instance, for partition groups
	fit       int      // on failure
	reasons   map[string]Reason
}

func (c groupCase) run(t *testing.T) {
	t.Helper()
	g := c.group
	req := Request{Count: c.count, Size: Resources{1, 512}, Zone: c.zone, Group: &g, Partition: c.partition, Strategy: c.strategy}
	got, err := Place(c.hosts, req)
	if c.want == nil {
		var ice *InsufficientCapacityError
		if !errors.As(err, &ice) {
			t.Fatalf("error %v (%T), want *InsufficientCapacityError", err, err)
		}
		if got != nil {
			t.Errorf("assignments %v with the error", got)
		}
		if ice.Fit != c.fit {
			t.Errorf("fit %d, want %d", ice.Fit, c.fit)
		}
		for id, want := range c.reasons {
			if ice.Rejected[id] != want {
				t.Errorf("host %s rejected as %q, want %q", id, ice.Rejected[id], want)
			}
		}
		return
	}
	if err != nil {
		t.Fatal(err)
	}
	if ids := hostIDs(got); !slices.Equal(ids, c.want) {
		t.Errorf("hosts %v, want %v", ids, c.want)
	}
	parts := make([]int, len(got))
	for i, a := range got {
		parts[i] = a.Partition
	}
	if c.parts == nil {
		c.parts = make([]int, len(got))
	}
	if !slices.Equal(parts, c.parts) {
		t.Errorf("partitions %v, want %v", parts, c.parts)
	}
}

func TestClusterGroup(t *testing.T) {
	db := Group{Name: "db", Strategy: GroupCluster}
	cases := []groupCase{
		{name: "a new group goes where all of it fits, fullest first",
			hosts: []Host{using(up("a", 4, 4096), 2, 0), up("b", 4, 4096), using(up("c", 8, 4096), 5, 0)},
			group: db, count: 3, want: []string{"c", "c", "c"}},
		{name: "under spread, to the emptiest host that holds it all",
			hosts: []Host{using(up("a", 4, 4096), 2, 0), up("b", 4, 4096), using(up("c", 8, 4096), 5, 0)},
			group: db, strategy: Spread, count: 3, want: []string{"b", "b", "b"}},
		{name: "an existing group grows on its host",
			hosts: []Host{up("a", 8, 8192), holding(using(up("b", 4, 4096), 2, 1024), "db", 2, 0)},
			group: db, count: 2, want: []string{"b", "b"}},
		{name: "another group's members do not count",
			hosts: []Host{holding(using(up("a", 4, 4096), 1, 512), "web", 1, 0), using(up("b", 4, 4096), 2, 0)},
			group: db, count: 2, want: []string{"b", "b"}},
		{name: "a group on several hosts grows where most of it is",
			hosts: []Host{holding(up("a", 8, 8192), "db", 1, 0), holding(up("b", 8, 8192), "db", 3, 0), holding(up("c", 8, 8192), "db", 3, 0)},
			group: db, count: 1, want: []string{"b"}},
		{name: "the group's host is too small for the rest",
			hosts: []Host{up("a", 8, 8192), holding(using(up("b", 4, 4096), 3, 0), "db", 3, 0)},
			group: db, count: 2, fit: 1, reasons: map[string]Reason{"a": ReasonClusterElsewhere, "b": ReasonCPU}},
		{name: "the group's host is draining",
			hosts: []Host{up("a", 8, 8192), holding(inState(up("b", 8, 8192), HostDraining), "db", 1, 0)},
			group: db, count: 1, fit: 0, reasons: map[string]Reason{"a": ReasonClusterElsewhere, "b": ReasonDraining}},
		{name: "no host holds all of a new group",
			hosts: []Host{up("a", 2, 8192), up("b", 3, 8192)},
			group: db, count: 4, fit: 3, reasons: map[string]Reason{"a": ReasonCPU, "b": ReasonCPU}},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

func TestSpreadGroup(t *testing.T) {
	web := Group{Name: "web", Strategy: GroupSpread}
	b := func(h Host) Host { return inZone(h, "local-b") }
	// sixOf returns six hosts in zone holding one instance of web each.
	sixOf := func(zone string) []Host {
		var hs []Host
		for _, id := range []string{"m1", "m2", "m3", "m4", "m5", "m6"} {
			hs = append(hs, inZone(holding(using(up(zone+"-"+id, 4, 4096), 1, 512), "web", 1, 0), zone))
		}
		return hs
	}
	cases := []groupCase{
		{name: "each instance on its own host, even under binpack",
			hosts: []Host{up("a", 8, 8192), up("b", 8, 8192), up("c", 8, 8192)},
			group: web, count: 3, want: []string{"a", "b", "c"}},
		{name: "binpack still orders the hosts",
			hosts: []Host{up("a", 8, 8192), using(up("b", 8, 8192), 4, 0), using(up("c", 8, 8192), 6, 0)},
			group: web, count: 2, want: []string{"c", "b"}},
		{name: "a host holding a member is passed over",
			hosts: []Host{holding(using(up("a", 8, 8192), 7, 512), "web", 1, 0), up("b", 8, 8192)},
			group: web, count: 1, want: []string{"b"}},
		{name: "more instances than free hosts",
			hosts: []Host{holding(up("a", 8, 8192), "web", 1, 0), up("b", 8, 8192), up("c", 8, 8192)},
			group: web, count: 3, fit: 2, reasons: map[string]Reason{"a": ReasonGroupMember, "b": ReasonGroupMember, "c": ReasonGroupMember}},
		{name: "with no zone named, the next zone takes over at the limit",
			hosts: append(append(sixOf("local-a"), up("a", 4, 4096), up("x", 4, 4096)), b(up("b", 4, 4096))),
			group: web, count: 2, want: []string{"a", "b"}},
		{name: "the zone limit stops placement when other zones lack hosts",
			hosts: append(append(sixOf("local-a"), up("a", 4, 4096), up("x", 4, 4096)), b(up("b", 4, 4096))),
			group: web, count: 3, fit: 2, reasons: map[string]Reason{"x": ReasonZoneLimit, "b": ReasonGroupMember, "a": ReasonGroupMember}},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}

// TestSpreadGroupLimit: a request the zone limit alone rules out fails as
// the group's limit, whatever the hosts, and wraps the kind the API maps
// to InsufficientInstanceCapacity.
func TestSpreadGroupLimit(t *testing.T) {
	web := &Group{Name: "web", Strategy: GroupSpread}
	var hosts []Host
	for i := range 20 {
		zone := []string{"local-a", "local-b"}[i%2]
		h := inZone(up(string(rune('a'+i)), 8, 8192), zone)
		if i < 12 {
			h = holding(h, "web", 1, 0) // six in each zone
		}
		hosts = append(hosts, h)
	}
	cases := []struct {
		name  string
		zone  string
		count int
		fails bool // for want of hosts, not of room in the group
		room  int  // over the limit: room left; -1 if within it
		zones []ZoneCount
	}{
		{"one more in a zone with six", "local-a", 1, false, -1, nil},
		{"two more in a zone with six", "local-a", 2, false, 1, []ZoneCount{{"local-a", 6}}},
		{"seven in a zone with none and no hosts", "local-c", 7, true, -1, nil},
		{"eight in a zone with none", "local-c", 8, false, 7, []ZoneCount{{"local-c", 0}}},
		{"two over both zones", "", 2, false, -1, nil},
		{"three over both zones", "", 3, false, 2, []ZoneCount{{"local-a", 6}, {"local-b", 6}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Place(hosts, Request{Count: c.count, Size: Resources{1, 512}, Zone: c.zone, Group: web})
			var gle *GroupLimitError
			var ice *InsufficientCapacityError
			switch {
			case c.room < 0 && c.fails:
				if !errors.As(err, &ice) {
					t.Fatalf("error %v (%T), want *InsufficientCapacityError", err, err)
				}
				return
			case c.room < 0:
				if err != nil {
					t.Fatal(err)
				}
				return
			case !errors.As(err, &gle):
				t.Fatalf("error %v (%T), want *GroupLimitError", err, err)
			}
			if got != nil {
				t.Errorf("assignments %v with the error", got)
			}
			if gle.Room != c.room || gle.Requested != c.count || !slices.Equal(gle.Zones, c.zones) {
				t.Errorf("room %d of %d in %v, want %d of %d in %v", gle.Room, gle.Requested, gle.Zones, c.room, c.count, c.zones)
			}
			if !errors.Is(err, errs.InsufficientSpace) {
				t.Error("does not wrap errs.InsufficientSpace")
			}
		})
	}
}

func TestPartitionGroup(t *testing.T) {
	p3 := Group{Name: "hdfs", Strategy: GroupPartition, Partitions: 3}
	p2 := Group{Name: "hdfs", Strategy: GroupPartition, Partitions: 2}
	cases := []groupCase{
		{name: "instances are dealt over the partitions, each on its own hosts",
			hosts: []Host{up("a", 8, 8192), up("b", 8, 8192), up("c", 8, 8192), up("d", 8, 8192)},
			group: p3, count: 3, want: []string{"a", "b", "c"}, parts: []int{1, 2, 3}},
		{name: "a partition comes back to its host",
			hosts: []Host{up("a", 8, 8192), up("b", 8, 8192)},
			group: p2, count: 4, want: []string{"a", "b", "a", "b"}, parts: []int{1, 2, 1, 2}},
		{name: "the emptiest partition goes first",
			hosts: []Host{holding(using(up("a", 8, 8192), 2, 1024), "hdfs", 2, 1), holding(using(up("b", 8, 8192), 1, 512), "hdfs", 1, 2), up("c", 8, 8192)},
			group: p3, count: 3, want: []string{"c", "b", "c"}, parts: []int{3, 2, 3}},
		{name: "a named partition uses its own host before a fuller free one",
			hosts: []Host{using(up("a", 8, 8192), 7, 0), holding(using(up("b", 8, 8192), 1, 512), "hdfs", 1, 2)},
			group: p3, partition: 2, count: 1, want: []string{"b"}, parts: []int{2}},
		{name: "a named partition claims a free host when its own are full",
			hosts: []Host{holding(using(up("a", 4, 4096), 4, 2048), "hdfs", 4, 2), up("b", 8, 8192), holding(up("c", 8, 8192), "hdfs", 1, 1)},
			group: p3, partition: 2, count: 2, want: []string{"b", "b"}, parts: []int{2, 2}},
		{name: "a named partition never takes another partition's host",
			hosts: []Host{holding(up("a", 8, 8192), "hdfs", 1, 1), holding(up("b", 8, 8192), "hdfs", 1, 3)},
			group: p3, partition: 2, count: 1, fit: 0, reasons: map[string]Reason{"a": ReasonOtherPartition, "b": ReasonOtherPartition}},
		{name: "a partition that cannot grow gives way to the next",
			hosts: []Host{holding(using(up("a", 4, 4096), 4, 0), "hdfs", 1, 1), up("b", 8, 8192)},
			group: p2, count: 2, want: []string{"b", "b"}, parts: []int{2, 2}},
		{name: "all or nothing across partitions",
			hosts: []Host{up("a", 1, 8192), up("b", 1, 8192)},
			group: p3, count: 3, fit: 2, reasons: map[string]Reason{"a": ReasonOtherPartition, "b": ReasonOtherPartition}},
	}
	for _, c := range cases {
		t.Run(c.name, c.run)
	}
}
