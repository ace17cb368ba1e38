package manager_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/loadbalancer/manager", []string{"kumo/api", "kumo/web", "kumo/hypervisor/libvirt", "libvirt.org", "github.com/labstack/echo"},
		"the manager serves the API and must not know it, nor how instances are hosted")
}
