package scheduler_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/scheduler", []string{"database/sql", "net", "os/exec", "github.com", "golang.org", "libvirt.org"},
		"placement is a pure function of a snapshot: no database, network, process or hypervisor")
	deptest.Forbid(t, "kumo/scheduler", []string{
		"kumo/accounts", "kumo/api", "kumo/cmd", "kumo/e2e", "kumo/hypervisor", "kumo/images", "kumo/instances",
		"kumo/keypairs", "kumo/loadbalancer", "kumo/metadata", "kumo/metrics", "kumo/store", "kumo/tags", "kumo/web",
		"kumo/internal/atomicfile", "kumo/internal/clock", "kumo/internal/ids", "kumo/internal/netns",
	}, "the scheduler sits below every service: it is handed a snapshot, it does not read one; of kumo it knows only internal/errs")
}
