package libvirt

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"

	"kumo/hypervisor"
)

func resolveAccel(want string) (hypervisor.Accel, error) {
	switch want {
	case "", "auto":
		if kvmUsable() {
			return hypervisor.AccelKVM, nil
		}
		return hypervisor.AccelTCG, nil
	case "kvm":
		if !kvmUsable() {
			return "", fmt.Errorf("libvirt: accel kvm requested but this host has no usable KVM (CPU flags vmx/svm and read-write /dev/kvm)")
		}
		return hypervisor.AccelKVM, nil
	case "tcg":
		return hypervisor.AccelTCG, nil
	}
	return "", fmt.Errorf("libvirt: unknown accel %q, want auto, kvm or tcg", want)
}

// kvmUsable needs both checks: nested or containerised hosts often have
// one without the other, and a kvm domain would then fail only at start.
func kvmUsable() bool {
	cpuinfo, err := os.ReadFile("/proc/cpuinfo")
	if err != nil || !cpuHasVirt(cpuinfo) {
		return false
	}
	f, err := os.OpenFile("/dev/kvm", os.O_RDWR, 0)
	if err != nil {
		return false
	}
	f.Close()
	return true
}

// cpuHasVirt reports whether /proc/cpuinfo lists Intel VT-x or AMD-V.
func cpuHasVirt(cpuinfo []byte) bool {
	sc := bufio.NewScanner(bytes.NewReader(cpuinfo))
	sc.Buffer(nil, 1<<20) // flags lines of big CPUs exceed the default
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok || strings.TrimSpace(key) != "flags" {
			continue
		}
		for _, f := range strings.Fields(val) {
			if f == "vmx" || f == "svm" {
				return true
			}
		}
	}
	return false
}
