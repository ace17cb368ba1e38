package scheduler

import "testing"

// TestFilters runs the filter chain on one host per case; the first
// filter that objects gives the reason.
func TestFilters(t *testing.T) {
	arm := func(h Host) Host { h.Arch = "aarch64"; return h }
	cases := []struct {
		name string
		h    Host
		req  Request
		want Reason
	}{
		{"up, any zone, any arch", up("a", 1, 1), Request{}, ""},
		{"draining", inState(up("a", 1, 1), HostDraining), Request{}, ReasonDraining},
		{"down", inState(up("a", 1, 1), HostDown), Request{}, ReasonDown},
		{"no state", inState(up("a", 1, 1), ""), Request{}, ReasonDown},
		{"zone matches", up("a", 1, 1), Request{Zone: "local-a"}, ""},
		{"zone differs", up("a", 1, 1), Request{Zone: "local-b"}, ReasonZone},
		{"instance type arch matches", arm(up("a", 1, 1)), Request{Arch: "aarch64"}, ""},
		{"instance type arch differs", up("a", 1, 1), Request{Arch: "aarch64"}, ReasonArch},
		{"image arch differs", up("a", 1, 1), Request{Image: ImageRequirements{Arch: "aarch64"}}, ReasonArch},
		{"image arch matches", up("a", 1, 1), Request{Image: ImageRequirements{Arch: "x86_64"}}, ""},
		{"state is checked before zone", inState(up("a", 1, 1), HostDraining), Request{Zone: "local-b"}, ReasonDraining},
		{"zone is checked before arch", up("a", 1, 1), Request{Zone: "local-b", Arch: "aarch64"}, ReasonZone},
	}
	for _, c := range cases {
		if got := runFilters(&c.h, &c.req); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}

// TestShort says which resource a host lacks, vCPUs first.
func TestShort(t *testing.T) {
	n := &node{limit: Resources{4, 4096}, used: Resources{2, 2048}}
	cases := []struct {
		size Resources
		want Reason
	}{
		{Resources{2, 2048}, ""},
		{Resources{3, 2048}, ReasonCPU},
		{Resources{2, 2049}, ReasonMemory},
		{Resources{3, 2049}, ReasonCPU},
	}
	for _, c := range cases {
		if got := n.short(c.size); got != c.want {
			t.Errorf("%+v on 2/4 vCPUs, 2048/4096 MiB used: %q, want %q", c.size, got, c.want)
		}
	}
}
