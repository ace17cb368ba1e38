package fake_test

import (
	"testing"

	"kumo/hypervisor"
	"kumo/hypervisor/conformance"
	"kumo/hypervisor/fake"
)

func TestConformance(t *testing.T) {
	// One host shared by all subtests, as libvirt's test driver is, so the
	// suite's tolerance of foreign domains is exercised here too.
	host := fake.New(fake.Options{})
	conformance.Run(t, func(t *testing.T) hypervisor.Driver { return &noClose{host} })
	if err := host.Close(); err != nil {
		t.Fatal(err)
	}
}

// noClose lets subtests close "their" driver while the host lives on.
type noClose struct{ *fake.Driver }

func (noClose) Close() error { return nil }

func TestConformanceFreshDriver(t *testing.T) {
	conformance.Run(t, func(t *testing.T) hypervisor.Driver { return fake.New(fake.Options{}) })
}
