package hypervisor_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	control := []string{"kumo/store", "kumo/instances", "kumo/images", "kumo/api", "kumo/web", "github.com/labstack/echo"}
	for _, pkg := range []string{"kumo/hypervisor", "kumo/hypervisor/fake", "kumo/hypervisor/libvirt", "kumo/hypervisor/conformance"} {
		deptest.Forbid(t, pkg, control, "drivers serve the control plane and must not know it")
	}
	deptest.Forbid(t, "kumo/hypervisor", []string{"libvirt.org"}, "the contract is independent of any driver")
}
