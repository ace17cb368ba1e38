package libvirt

import (
	"testing"

	"kumo/hypervisor"
)

func TestParseNetwork(t *testing.T) {
	for _, tc := range []struct {
		xml  string
		want hypervisor.Network
	}{
		{`<network><name>kumo</name><bridge name='kumobr0'/><ip address='10.77.0.1' netmask='255.255.255.0'/></network>`,
			hypervisor.Network{Name: "kumo", Bridge: "kumobr0", CIDR: "10.77.0.0/24", Gateway: "10.77.0.1"}},
		{`<network><name>p</name><bridge name='br1'/><ip family='ipv6' address='fd00::1' prefix='64'/><ip address='172.16.4.1' prefix='22'/></network>`,
			hypervisor.Network{Name: "p", Bridge: "br1", CIDR: "172.16.4.0/22", Gateway: "172.16.4.1"}},
		{`<network><name>lan</name><forward mode='bridge'/><bridge name='br0'/></network>`,
			hypervisor.Network{Name: "lan", Bridge: "br0"}},
	} {
		got, err := parseNetwork(tc.xml)
		if err != nil || got != tc.want {
			t.Errorf("parseNetwork(%s) = %+v, %v; want %+v", tc.xml, got, err, tc.want)
		}
	}
	if _, err := parseNetwork(`<network><name>x</name><ip address='10.0.0.1' netmask='255.0.255.0'/></network>`); err == nil {
		t.Error("parseNetwork accepted a non-contiguous netmask")
	}
}
