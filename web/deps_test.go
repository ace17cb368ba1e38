package web_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/web", []string{"kumo/api", "kumo/instances", "kumo/images", "kumo/loadbalancer",
		"kumo/hypervisor", "kumo/store", "kumo/accounts", "github.com/labstack/echo", "libvirt.org"},
		"the console's pages and files are rendered for the API, which imports them; they reach the services only through the API, from the browser")
}
