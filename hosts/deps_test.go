package hosts_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/hosts", []string{
		"kumo/instances", "kumo/images", "kumo/api", "kumo/web", "kumo/cmd", "kumo/loadbalancer", "kumo/metadata",
		"kumo/metrics", "kumo/tags", "kumo/keypairs", "kumo/accounts",
	}, "the fleet sits below the services that use it: it knows hosts and claims, not what holds them")
	deptest.Forbid(t, "kumo/hosts", []string{"net/http", "github.com/labstack/echo", "kumo/hypervisor/libvirt", "kumo/hypervisor/fake", "libvirt.org"},
		"hosts are reached only through the hypervisor.Driver values of the constructor kumod passes in, never over HTTP or a driver of its own choosing")
}
