package store_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/store", []string{"kumo/hypervisor", "kumo/instances", "kumo/images", "kumo/loadbalancer", "kumo/tags", "kumo/api", "github.com/labstack/echo", "libvirt.org"},
		"the store keeps rows; rules and I/O with hosts live above it")
}
