package launchtemplates_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/launchtemplates", []string{"kumo/api", "kumo/web", "kumo/instances", "kumo/hypervisor",
		"net/http", "github.com/labstack/echo", "libvirt.org"},
		"launch templates are a service the API calls; they must not know HTTP, the API or the instance lifecycle")
}
