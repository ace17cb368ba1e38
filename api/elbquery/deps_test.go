package elbquery

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/api/elbquery", []string{"kumo", "github.com", "golang.org", "libvirt.org"},
		"the codec knows only the wire: no kumo service, store or router, and nothing outside the standard library")
}
