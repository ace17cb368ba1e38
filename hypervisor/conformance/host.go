package conformance

import (
	"net/netip"
	"testing"

	"kumo/hypervisor"
)

func (s *suite) testHost(t *testing.T) {
	d := s.driver(t)
	h, err := d.Host(ctx(t))
	if err != nil {
		t.Fatalf("Host: %v", err)
	}
	if h.CPUs <= 0 || h.MemoryMiB <= 0 || h.Arch == "" || h.Hostname == "" {
		t.Fatalf("Host = %+v, want CPUs, memory, arch and hostname", h)
	}
	if h.Accel != hypervisor.AccelKVM && h.Accel != hypervisor.AccelTCG {
		t.Fatalf("Host().Accel = %q", h.Accel)
	}
}

func (s *suite) testNetwork(t *testing.T) {
	d := s.driver(t)
	n, err := d.Network(ctx(t), s.opts.Network)
	if err != nil {
		t.Fatalf("Network(%s): %v", s.opts.Network, err)
	}
	if n.Name != s.opts.Network {
		t.Fatalf("Network(%s).Name = %q", s.opts.Network, n.Name)
	}
	prefix, err := netip.ParsePrefix(n.CIDR)
	if err != nil || prefix != prefix.Masked() {
		t.Fatalf("Network(%s).CIDR = %q, want a subnet like 10.77.0.0/24", n.Name, n.CIDR)
	}
	gw, err := netip.ParseAddr(n.Gateway)
	if err != nil || !prefix.Contains(gw) {
		t.Fatalf("Network(%s).Gateway = %q, want an address in %s", n.Name, n.Gateway, prefix)
	}

	// hypervisor has no network sentinel; drivers reuse ErrNotFound.
	_, err = d.Network(ctx(t), "kumo-conf-missing-"+randomHex(4))
	wantErr(t, "Network of a missing network", err, hypervisor.ErrNotFound)
}
