package scheduler

import (
	"errors"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// up returns an up x86_64 host in local-a without overcommit, so that its
// capacity reads as written.
func up(id string, vcpus int, memMiB int64) Host {
	return Host{ID: id, Name: "host-" + id, Zone: "local-a", Arch: "x86_64", State: HostUp,
		Capacity: Resources{vcpus, memMiB}, CPURatio: 1, MemoryRatio: 1}
}

func inZone(h Host, zone string) Host { h.Zone = zone; return h }

func inState(h Host, s HostState) Host { h.State = s; return h }

func using(h Host, vcpus int, memMiB int64) Host {
	h.Used = Resources{vcpus, memMiB}
	return h
}

// holding gives h n instances of group (using their room is left to the
// caller).
func holding(h Host, group string, n, partition int) Host {
	g := map[string]Membership{}
	for k, v := range h.Groups {
		g[k] = v
	}
	g[group] = Membership{Instances: n, Partition: partition}
	h.Groups = g
	return h
}

func hostIDs(as []Assignment) []string {
	ids := make([]string, len(as))
	for i, a := range as {
		ids[i] = a.HostID
	}
	return ids
}

func small(count int) Request {
	return Request{Count: count, Size: Resources{1, 512}}
}

// TestPlaceEdges covers capacity, filters, overcommit and reservations on
// small fleets whose right answer can be read off the case.
func TestPlaceEdges(t *testing.T) {
	cases := []struct {
		name    string
		hosts   []Host
		req     Request
		want    []string          // host per instance; nil when placement must fail
		fit     int               // when it fails: how many the error says fit
		reasons map[string]Reason // when it fails: some hosts' reasons
	}{
		{"an instance that fills a host exactly fits",
			[]Host{up("a", 2, 2048)}, Request{Count: 1, Size: Resources{2, 2048}}, []string{"a"}, 0, nil},
		{"one vCPU over does not fit",
			[]Host{up("a", 2, 2048)}, Request{Count: 1, Size: Resources{3, 1024}}, nil, 0, map[string]Reason{"a": ReasonCPU}},
		{"one MiB over does not fit",
			[]Host{up("a", 2, 2048)}, Request{Count: 1, Size: Resources{1, 2049}}, nil, 0, map[string]Reason{"a": ReasonMemory}},
		{"nothing fits",
			[]Host{up("a", 1, 4096), up("b", 1, 4096)}, Request{Count: 1, Size: Resources{2, 512}}, nil, 0,
			map[string]Reason{"a": ReasonCPU, "b": ReasonCPU}},
		{"no hosts at all",
			nil, small(1), nil, 0, map[string]Reason{}},
		{"all hosts drained",
			[]Host{inState(up("a", 8, 8192), HostDraining), inState(up("b", 8, 8192), HostDraining)}, small(1), nil, 0,
			map[string]Reason{"a": ReasonDraining, "b": ReasonDraining}},
		{"a down host is passed over",
			[]Host{inState(up("a", 8, 8192), HostDown), up("b", 1, 512)}, small(1), []string{"b"}, 0, nil},
		{"a host in an unknown state is treated as down",
			[]Host{inState(up("a", 8, 8192), "rebooting")}, small(1), nil, 0, map[string]Reason{"a": ReasonDown}},
		{"a zone with no hosts",
			[]Host{up("a", 8, 8192), inZone(up("b", 8, 8192), "local-b")}, Request{Count: 1, Size: Resources{1, 512}, Zone: "local-c"}, nil, 0,
			map[string]Reason{"a": ReasonZone, "b": ReasonZone}},
		{"the named zone is kept to",
			[]Host{up("a", 8, 8192), inZone(up("b", 8, 8192), "local-b")}, Request{Count: 2, Size: Resources{1, 512}, Zone: "local-b"}, []string{"b", "b"}, 0, nil},
		{"architecture of the instance type",
			[]Host{up("a", 8, 8192), func() Host { h := up("b", 8, 8192); h.Arch = "aarch64"; return h }()},
			Request{Count: 1, Size: Resources{1, 512}, Arch: "aarch64"}, []string{"b"}, 0, nil},
		{"architecture of the image",
			[]Host{func() Host { h := up("a", 8, 8192); h.Arch = "aarch64"; return h }(), up("b", 1, 512)},
			Request{Count: 1, Size: Resources{1, 512}, Image: ImageRequirements{Arch: "x86_64"}}, []string{"b"}, 0, nil},
		{"no host of the architecture",
			[]Host{up("a", 8, 8192)}, Request{Count: 1, Size: Resources{1, 512}, Arch: "aarch64"}, nil, 0, map[string]Reason{"a": ReasonArch}},
		{"each instance sees the ones before it",
			[]Host{up("a", 2, 4096), up("b", 2, 4096)}, small(4), []string{"a", "a", "b", "b"}, 0, nil},
		{"all or nothing: three fit, four asked",
			[]Host{up("a", 2, 4096), up("b", 1, 4096)}, small(4), nil, 3, map[string]Reason{"a": ReasonCPU, "b": ReasonCPU}},
		{"a host already over its capacity takes nothing",
			[]Host{using(up("a", 2, 4096), 3, 0)}, small(1), nil, 0, map[string]Reason{"a": ReasonCPU}},
		{"CPU overcommit: 2 cores at 4.0 hold 8 vCPUs",
			[]Host{func() Host { h := up("a", 2, 8192); h.CPURatio = 4; return h }()}, small(8), slices.Repeat([]string{"a"}, 8), 0, nil},
		{"CPU overcommit: not a ninth",
			[]Host{func() Host { h := up("a", 2, 8192); h.CPURatio = 4; return h }()}, small(9), nil, 8, map[string]Reason{"a": ReasonCPU}},
		{"memory overcommit: 1024 MiB at 1.5 hold 1536",
			[]Host{func() Host { h := up("a", 8, 1024); h.MemoryRatio = 1.5; return h }()}, small(3), []string{"a", "a", "a"}, 0, nil},
		{"memory overcommit: not 1537",
			[]Host{func() Host { h := up("a", 8, 1024); h.MemoryRatio = 1.5; return h }()}, Request{Count: 1, Size: Resources{1, 1537}}, nil, 0, map[string]Reason{"a": ReasonMemory}},
		{"reservation comes off before overcommit",
			[]Host{func() Host { h := up("a", 4, 8192); h.Reserved.VCPUs = 2; h.CPURatio = 2; return h }()}, small(5), nil, 4, map[string]Reason{"a": ReasonCPU}},
		{"memory reservation is never handed out",
			[]Host{func() Host { h := up("a", 8, 4096); h.Reserved.MemoryMiB = 1024; return h }()}, Request{Count: 4, Size: Resources{1, 1024}}, nil, 3, map[string]Reason{"a": ReasonMemory}},
		{"usage already on a host counts",
			[]Host{using(up("a", 4, 4096), 3, 0), up("b", 4, 4096)}, small(3), []string{"a", "b", "b"}, 0, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Place(c.hosts, c.req)
			if c.want != nil {
				if err != nil {
					t.Fatalf("Place: %v", err)
				}
				if ids := hostIDs(got); !slices.Equal(ids, c.want) {
					t.Fatalf("hosts %v, want %v", ids, c.want)
				}
				return
			}
			if got != nil {
				t.Fatalf("failed placement returned assignments %v", got)
			}
			var ice *InsufficientCapacityError
			if !errors.As(err, &ice) {
				t.Fatalf("error %v (%T), want *InsufficientCapacityError", err, err)
			}
			if ice.Fit != c.fit || ice.Requested != c.req.Count {
				t.Errorf("fit %d of %d, want %d of %d", ice.Fit, ice.Requested, c.fit, c.req.Count)
			}
			if len(ice.Rejected) != len(c.hosts) {
				t.Errorf("%d hosts rejected, want all %d: %v", len(ice.Rejected), len(c.hosts), ice.Rejected)
			}
			for id, want := range c.reasons {
				if ice.Rejected[id] != want {
					t.Errorf("host %s rejected as %q, want %q", id, ice.Rejected[id], want)
				}
			}
		})
	}
}

// TestDefaultRatios checks Nova's defaults apply when a host leaves its
// ratios zero: 16 vCPUs per core, memory as it is.
func TestDefaultRatios(t *testing.T) {
	h := up("a", 1, 1024)
	h.CPURatio, h.MemoryRatio = 0, 0
	if _, err := Place([]Host{h}, Request{Count: 16, Size: Resources{1, 64}}); err != nil {
		t.Errorf("16 vCPUs on one core: %v", err)
	}
	if _, err := Place([]Host{h}, Request{Count: 17, Size: Resources{1, 32}}); err == nil {
		t.Error("17 vCPUs on one core were placed")
	}
	if _, err := Place([]Host{h}, Request{Count: 1, Size: Resources{1, 1025}}); err == nil {
		t.Error("1025 MiB on a 1024 MiB host were placed")
	}
}

func TestEffective(t *testing.T) {
	cases := []struct {
		name string
		h    Host
		want Resources
	}{
		{"defaults", Host{Capacity: Resources{8, 16384}}, Resources{128, 16384}},
		{"ratios", Host{Capacity: Resources{8, 16384}, CPURatio: 2, MemoryRatio: 1.5}, Resources{16, 24576}},
		{"reservation before ratio", Host{Capacity: Resources{8, 16384}, Reserved: Resources{2, 4096}, CPURatio: 4, MemoryRatio: 1}, Resources{24, 12288}},
		{"rounded down", Host{Capacity: Resources{3, 1001}, CPURatio: 1.5, MemoryRatio: 1.5}, Resources{4, 1501}},
		{"reservation above capacity leaves nothing", Host{Capacity: Resources{2, 1024}, Reserved: Resources{4, 2048}}, Resources{0, 0}},
	}
	for _, c := range cases {
		if got := c.h.Effective(); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

// TestPlaceLeavesHostsAlone: the snapshot belongs to the caller.
func TestPlaceLeavesHostsAlone(t *testing.T) {
	hosts := []Host{holding(up("a", 4, 4096), "web", 1, 0), up("b", 4, 4096)}
	before := []Host{holding(up("a", 4, 4096), "web", 1, 0), up("b", 4, 4096)}
	req := small(6)
	req.Group = &Group{Name: "web", Strategy: GroupCluster}
	if _, err := Place(hosts, req); err == nil {
		t.Fatal("six instances on a four-vCPU host were placed")
	}
	req.Count = 3
	if _, err := Place(hosts, req); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(hosts, before) {
		t.Errorf("hosts changed:\n%+v\nwas\n%+v", hosts, before)
	}
}

// TestInsufficientMessage reads the error as a person would.
func TestInsufficientMessage(t *testing.T) {
	hosts := []Host{up("a", 2, 4096), inState(up("b", 8, 8192), HostDraining), inState(up("c", 8, 8192), HostDraining), inZone(up("d", 8, 8192), "local-b")}
	_, err := Place(hosts, Request{Count: 3, InstanceType: "t2.micro", Size: Resources{1, 1024}, Zone: "local-a"})
	want := "We currently do not have sufficient t2.micro capacity in the Availability Zone you requested (local-a): " +
		"2 of the 3 instances requested fit. Hosts: 2 draining, 1 in another zone, 1 short of vCPUs."
	if err == nil || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}

	_, err = Place(nil, Request{Count: 1, Size: Resources{2, 4096}})
	want = "We currently do not have sufficient capacity for instances of 2 vCPUs and 4096 MiB in any Availability Zone: " +
		"0 of the 1 instances requested fit. There are no hosts."
	if err == nil || err.Error() != want {
		t.Errorf("error\n%v\nwant\n%s", err, want)
	}

	req := small(3)
	req.Group = &Group{Name: "db", Strategy: GroupCluster}
	_, err = Place([]Host{up("a", 2, 4096)}, req)
	if err == nil || !strings.Contains(err.Error(), "for cluster placement group 'db': at most 2 of the 3 instances requested fit on one host.") {
		t.Errorf("cluster error %v does not say how many fit on one host", err)
	}
}
