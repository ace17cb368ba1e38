package keypairs_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/keypairs", []string{"kumo/api", "kumo/web", "kumo/instances", "kumo/hypervisor",
		"net/http", "github.com/labstack/echo", "libvirt.org"},
		"key pairs are a service the API calls; they must not know HTTP, the API or the instance lifecycle")
}
