package conformance

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"kumo/hypervisor"
)

func (s *suite) testDefineInspect(t *testing.T) {
	d := s.driver(t)
	spec := s.spec(uniqueName())
	spec.UUID = "4b6f7d1e-" + randomHex(2) + "-4c2a-8e3b-" + randomHex(6)
	if err := d.Define(ctx(t), spec); err != nil {
		t.Fatalf("Define: %v", err)
	}
	t.Cleanup(func() { _ = d.Undefine(ctx(t), spec.Name) })

	dom, err := d.Inspect(ctx(t), spec.Name)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	want := hypervisor.Domain{Name: spec.Name, UUID: spec.UUID, State: hypervisor.PowerShutoff, Metadata: spec.Metadata}
	if dom != want {
		t.Fatalf("Inspect = %+v\nwant      %+v", dom, want)
	}
}

func (s *suite) testDefineEmptyMetadata(t *testing.T) {
	d := s.driver(t)
	spec := s.spec(uniqueName())
	spec.Metadata = ""
	if err := d.Define(ctx(t), spec); err != nil {
		t.Fatalf("Define: %v", err)
	}
	t.Cleanup(func() { _ = d.Undefine(ctx(t), spec.Name) })
	dom, err := d.Inspect(ctx(t), spec.Name)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if dom.Metadata != "" || dom.UUID == "" {
		t.Fatalf("Inspect = %+v, want empty metadata and a driver-chosen UUID", dom)
	}
}

func (s *suite) testDefineTwice(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	wantErr(t, "second Define", d.Define(ctx(t), spec), hypervisor.ErrExists)

	// A different spec under the same name must not replace the first.
	other := s.spec(spec.Name)
	other.Metadata = "replaced"
	wantErr(t, "Define with a taken name", d.Define(ctx(t), other), hypervisor.ErrExists)
	dom, err := d.Inspect(ctx(t), spec.Name)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if dom.Metadata != spec.Metadata {
		t.Fatalf("metadata = %q after a refused Define, want %q", dom.Metadata, spec.Metadata)
	}
}

func (s *suite) testStart(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	wantState(t, d, spec.Name, hypervisor.PowerRunning)
}

func (s *suite) testStartTwice(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	wantErr(t, "second Start", d.Start(ctx(t), spec.Name), hypervisor.ErrInvalidState)
	wantState(t, d, spec.Name, hypervisor.PowerRunning)
}

func (s *suite) testShutdownStopped(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	if err := d.Shutdown(ctx(t), spec.Name); err != nil {
		t.Fatalf("Shutdown of a stopped domain: %v", err)
	}
	wantState(t, d, spec.Name, hypervisor.PowerShutoff)
}

// The guest decides whether and when an ACPI shutdown completes, so only
// the request is checked, not the outcome.
func (s *suite) testShutdownRunning(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	if err := d.Shutdown(ctx(t), spec.Name); err != nil {
		t.Fatalf("Shutdown: %v", err)
	}
	dom, err := d.Inspect(ctx(t), spec.Name)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	switch dom.State {
	case hypervisor.PowerRunning, hypervisor.PowerShuttingDown, hypervisor.PowerShutoff:
	default:
		t.Fatalf("state after Shutdown = %s", dom.State)
	}
}

func (s *suite) testReboot(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	wantErr(t, "Reboot of a stopped domain", d.Reboot(ctx(t), spec.Name), hypervisor.ErrInvalidState)
	s.start(t, d, spec.Name)
	if err := d.Reboot(ctx(t), spec.Name); err != nil {
		t.Fatalf("Reboot: %v", err)
	}
	wantState(t, d, spec.Name, hypervisor.PowerRunning)
}

func (s *suite) testDestroy(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	if err := d.Destroy(ctx(t), spec.Name); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	wantState(t, d, spec.Name, hypervisor.PowerShutoff)
	if err := d.Destroy(ctx(t), spec.Name); err != nil {
		t.Fatalf("Destroy of a stopped domain: %v", err)
	}
	wantState(t, d, spec.Name, hypervisor.PowerShutoff)
}

// Undefine only forgets stopped domains: forgetting a running one would
// leave a VM the control plane can no longer see after it stops.
func (s *suite) testUndefineRunning(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	wantErr(t, "Undefine of a running domain", d.Undefine(ctx(t), spec.Name), hypervisor.ErrInvalidState)
	wantState(t, d, spec.Name, hypervisor.PowerRunning)
}

func (s *suite) testUndefine(t *testing.T) {
	d := s.driver(t)
	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	if err := d.Destroy(ctx(t), spec.Name); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	if err := d.Undefine(ctx(t), spec.Name); err != nil {
		t.Fatalf("Undefine: %v", err)
	}
	_, err := d.Inspect(ctx(t), spec.Name)
	wantErr(t, "Inspect after Undefine", err, hypervisor.ErrNotFound)
	if err := d.Undefine(ctx(t), spec.Name); err != nil {
		t.Fatalf("second Undefine: %v", err)
	}
	// The name is free again.
	if err := d.Define(ctx(t), spec); err != nil {
		t.Fatalf("Define after Undefine: %v", err)
	}
}

func (s *suite) testMissingDomain(t *testing.T) {
	d := s.driver(t)
	name := uniqueName()
	for op, call := range map[string]func() error{
		"Start":    func() error { return d.Start(ctx(t), name) },
		"Shutdown": func() error { return d.Shutdown(ctx(t), name) },
		"Reboot":   func() error { return d.Reboot(ctx(t), name) },
		"Destroy":  func() error { return d.Destroy(ctx(t), name) },
		"Inspect":  func() error { _, err := d.Inspect(ctx(t), name); return err },
	} {
		wantErr(t, op+" of a missing domain", call(), hypervisor.ErrNotFound)
	}
	if err := d.Undefine(ctx(t), name); err != nil {
		t.Fatalf("Undefine of a missing domain: %v", err)
	}
}

func (s *suite) testList(t *testing.T) {
	d := s.driver(t)
	stopped, running := s.define(t, d), s.define(t, d)
	s.start(t, d, running.Name)
	doms, err := d.List(ctx(t))
	if err != nil {
		t.Fatalf("List: %v", err)
	}
	want := map[string]hypervisor.Domain{
		stopped.Name: {Name: stopped.Name, State: hypervisor.PowerShutoff, Metadata: stopped.Metadata},
		running.Name: {Name: running.Name, State: hypervisor.PowerRunning, Metadata: running.Metadata},
	}
	for _, dom := range doms {
		w, ok := want[dom.Name]
		if !ok {
			continue // not ours: other subtests or the host's own domains
		}
		if dom.UUID == "" {
			t.Errorf("List entry %+v has no UUID", dom)
		}
		if dom.UUID = ""; dom != w {
			t.Errorf("List entry %+v, want %+v", dom, w)
		}
		delete(want, dom.Name)
	}
	if len(want) > 0 {
		t.Fatalf("List is missing %v", want)
	}
}

func (s *suite) testConcurrent(t *testing.T) {
	d := s.driver(t)
	const n = 8
	var wg sync.WaitGroup
	errs := make(chan error, n)
	c := ctx(t)
	for i := 0; i < n; i++ {
		spec := s.spec(uniqueName())
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs <- cycle(c, d, spec)
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
}

// cycle runs a domain's whole life; a failure midway may leak the domain,
// which on a shared driver only costs a name nobody else uses.
func cycle(c context.Context, d hypervisor.Driver, spec hypervisor.Spec) error {
	for _, step := range []struct {
		op string
		fn func() error
	}{
		{"Define", func() error { return d.Define(c, spec) }},
		{"Start", func() error { return d.Start(c, spec.Name) }},
		{"Destroy", func() error { return d.Destroy(c, spec.Name) }},
		{"Undefine", func() error { return d.Undefine(c, spec.Name) }},
	} {
		if err := step.fn(); err != nil {
			return fmt.Errorf("%s(%s): %w", step.op, spec.Name, err)
		}
	}
	return nil
}
