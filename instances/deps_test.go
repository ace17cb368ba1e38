package instances_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/instances", []string{"kumo/api", "kumo/web", "kumo/hypervisor/libvirt", "libvirt.org", "github.com/labstack/echo", "net/http"},
		"the lifecycle speaks to hosts only through hypervisor.Driver and knows nothing of HTTP")
}
