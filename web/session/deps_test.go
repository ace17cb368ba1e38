package session_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/web/session", []string{"kumo/api", "github.com/labstack/echo", "kumo/instances", "kumo/images",
		"kumo/loadbalancer", "kumo/hypervisor", "libvirt.org"},
		"sessions sit beside the API, which reaches them through an interface; they need only the accounts")
}
