package metrics_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/metrics", []string{"kumo/hypervisor/libvirt", "libvirt.org"},
		"counters come through Source; how a host reads them is the driver's business")
	deptest.Forbid(t, "kumo/metrics", []string{"kumo/instances", "kumo/images", "kumo/loadbalancer", "kumo/api", "kumo/web", "github.com/labstack/echo"},
		"the caller says which domain is which instance; services and the wire sit above metrics")
}
