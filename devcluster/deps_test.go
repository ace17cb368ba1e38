package devcluster_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/devcluster", []string{
		"kumo/instances", "kumo/scheduler", "kumo/hosts", "kumo/api", "kumo/web", "kumo/hypervisor", "kumo/store",
	}, "simulated hosts are machines: kumod registers them by URI like any other, and they know nothing of what runs on them")
	deptest.Forbid(t, "kumo/devcluster", []string{"libvirt.org"},
		"the kumo CLI links this package: it drives libvirt through virsh so that the CLI needs no libvirt library")
}
