package libvirt

import (
	"testing"

	"kumo/hypervisor"
	"kumo/hypervisor/conformance"
)

// testURI is libvirt's built-in test driver: in-process, no daemon, state
// shared by every connection in the process while one stays open. It
// starts with a running domain "test" and a network "default".
const testURI = "test:///default"

func newTestDriver(t *testing.T) *Driver {
	t.Helper()
	d, err := New(testURI, Options{Accel: "tcg"})
	if err != nil {
		t.Fatalf("New(%s): %v", testURI, err)
	}
	return d
}

func TestConformance(t *testing.T) {
	conformance.Run(t, func(t *testing.T) hypervisor.Driver { return newTestDriver(t) },
		conformance.Options{Network: "default"})
}
