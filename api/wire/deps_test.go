package wire_test

import (
	"testing"

	"kumo/internal/deptest"
)

func TestDependencies(t *testing.T) {
	deptest.Forbid(t, "kumo/api/wire", []string{"kumo", "github.com", "libvirt.org"},
		"clients import the wire types and must not pull in the server")
}
