package libvirt

import (
	"testing"

	"kumo/hypervisor"
)

func TestCPUHasVirt(t *testing.T) {
	for in, want := range map[string]bool{
		"processor\t: 0\nflags\t\t: fpu vme de pse vmx sse\n": true,
		"flags\t\t: fpu svm\n":                                true,
		"flags\t\t: fpu vmxnet sse\nvmx flags\t: ept\n":       false,
		"": false,
	} {
		if got := cpuHasVirt([]byte(in)); got != want {
			t.Errorf("cpuHasVirt(%q) = %v, want %v", in, got, want)
		}
	}
}

func TestResolveAccel(t *testing.T) {
	if a, err := resolveAccel("tcg"); err != nil || a != hypervisor.AccelTCG {
		t.Errorf("resolveAccel(tcg) = %q, %v", a, err)
	}
	if _, err := resolveAccel("hvf"); err == nil {
		t.Error("resolveAccel(hvf) succeeded")
	}
	auto, err := resolveAccel("")
	if err != nil || (auto != hypervisor.AccelTCG && auto != hypervisor.AccelKVM) {
		t.Errorf("resolveAccel(\"\") = %q, %v", auto, err)
	}
	if kvm, err := resolveAccel("kvm"); (err == nil) != (auto == hypervisor.AccelKVM) {
		t.Errorf("resolveAccel(kvm) = %q, %v while auto picks %q", kvm, err, auto)
	}
}
