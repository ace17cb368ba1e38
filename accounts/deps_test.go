package accounts_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/accounts", []string{"kumo/api", "kumo/web", "kumo/instances", "kumo/images", "kumo/hypervisor",
		"kumo/loadbalancer", "net/http", "github.com/labstack/echo", "libvirt.org"},
		"accounts are a service the API calls; they must not know HTTP, the API or the other services")
}
