package scheduler

import (
	"slices"
	"testing"
)

func TestDominantShare(t *testing.T) {
	n := &node{limit: Resources{4, 1024}, used: Resources{1, 512}}
	cases := []struct {
		size Resources
		want float64
	}{
		{Resources{1, 256}, 0.75}, // memory dominates: 768/1024 against 2/4
		{Resources{2, 128}, 0.75}, // vCPUs dominate: 3/4 against 640/1024
		{Resources{3, 512}, 1},    // an exact fit
	}
	for _, c := range cases {
		if got := scoreOf(n, c.size, false).share; got != c.want {
			t.Errorf("%+v: share %v, want %v", c.size, got, c.want)
		}
	}
	if scoreOf(n, Resources{1, 1}, false).inUse != true || scoreOf(&node{limit: n.limit}, Resources{1, 1}, false).inUse {
		t.Error("inUse does not follow the host's usage")
	}
}

// TestStrategies places one instance of 1 vCPU and 256 MiB on fleets of
// 4-vCPU, 1024-MiB hosts, unless a case says otherwise.
func TestStrategies(t *testing.T) {
	h := func(id string, vcpus int, mem int64) Host { return using(up(id, 4, 1024), vcpus, mem) }
	cases := []struct {
		name     string
		hosts    []Host
		strategy Strategy
		count    int
		want     []string
	}{
		{"binpack takes the fullest", []Host{h("a", 1, 0), h("b", 3, 0), h("c", 0, 0)}, Binpack, 1, []string{"b"}},
		{"binpack is the default", []Host{h("a", 1, 0), h("b", 3, 0), h("c", 0, 0)}, "", 1, []string{"b"}},
		{"binpack ranks by the dominant resource", []Host{h("a", 2, 256), h("b", 1, 768)}, Binpack, 1, []string{"b"}},
		{"binpack fills one host before the next", []Host{h("a", 0, 0), h("b", 0, 0)}, Binpack, 5, []string{"a", "a", "a", "a", "b"}},
		{"binpack prefers an exact fit", []Host{h("a", 2, 0), h("b", 3, 768)}, Binpack, 1, []string{"b"}},
		{"binpack passes over a host without room", []Host{h("a", 4, 0), h("b", 1, 0)}, Binpack, 1, []string{"b"}},
		{"binpack keeps a small empty host empty while a big busy one has room",
			[]Host{using(up("big", 64, 65536), 1, 256), up("small", 1, 256)}, Binpack, 1, []string{"big"}},
		{"spread takes the emptiest", []Host{h("a", 1, 0), h("b", 3, 0), h("c", 0, 0)}, Spread, 1, []string{"c"}},
		{"spread ranks by the dominant resource", []Host{h("a", 2, 0), h("b", 1, 768)}, Spread, 1, []string{"a"}},
		{"spread takes turns", []Host{h("a", 0, 0), h("b", 0, 0), h("c", 0, 0)}, Spread, 4, []string{"a", "b", "c", "a"}},
		{"ties go to the lowest ID under binpack", []Host{h("c", 1, 0), h("a", 1, 0), h("b", 1, 0)}, Binpack, 1, []string{"a"}},
		{"ties go to the lowest ID under spread", []Host{h("c", 1, 0), h("a", 1, 0), h("b", 1, 0)}, Spread, 1, []string{"a"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got, err := Place(c.hosts, Request{Count: c.count, Size: Resources{1, 256}, Strategy: c.strategy})
			if err != nil {
				t.Fatal(err)
			}
			if ids := hostIDs(got); !slices.Equal(ids, c.want) {
				t.Errorf("hosts %v, want %v", ids, c.want)
			}
		})
	}
}
