package tags_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/tags", []string{"kumo/api", "kumo/web", "kumo/instances", "kumo/images", "kumo/hypervisor",
		"net/http", "github.com/labstack/echo", "libvirt.org"},
		"tags are a service the API calls; they reach the resources they tag through interfaces and know nothing of HTTP")
}
