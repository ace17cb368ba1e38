package ec2query

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/api/ec2query", []string{"kumo", "github.com", "golang.org", "libvirt.org"},
		"the codec knows only the wire: no kumo service, store or router, and nothing outside the standard library")
}
