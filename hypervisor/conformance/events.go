package conformance

import (
	"context"
	"testing"
	"time"

	"kumo/hypervisor"
)

func (s *suite) testEvents(t *testing.T) {
	d := s.driver(t)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	events, err := d.Events(c)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	s.awaitEvent(t, events, spec.Name, hypervisor.EventStarted)
	if err := d.Destroy(ctx(t), spec.Name); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	s.awaitEvent(t, events, spec.Name, hypervisor.EventStopped)

	cancel()
	s.awaitClosed(t, events)
}

// Every subscriber sees every event; one that never reads must not hold
// up the others or the driver.
func (s *suite) testEventsSeveralSubscribers(t *testing.T) {
	d := s.driver(t)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	var subs [3]<-chan hypervisor.Event
	for i := range subs {
		ch, err := d.Events(c)
		if err != nil {
			t.Fatalf("Events #%d: %v", i, err)
		}
		subs[i] = ch
	}
	stalled, err := d.Events(c)
	if err != nil {
		t.Fatalf("Events (stalled): %v", err)
	}
	_ = stalled // never read

	spec := s.define(t, d)
	// Enough transitions to overflow any small buffer on the stalled one.
	for i := 0; i < 40; i++ {
		s.start(t, d, spec.Name)
		if err := d.Destroy(ctx(t), spec.Name); err != nil {
			t.Fatalf("Destroy: %v", err)
		}
	}
	for _, ch := range subs {
		s.awaitEvent(t, ch, spec.Name, hypervisor.EventStarted)
		s.awaitEvent(t, ch, spec.Name, hypervisor.EventStopped)
	}
	cancel()
	for _, ch := range append(subs[:], stalled) {
		s.awaitClosed(t, ch)
	}
}

// awaitEvent reads until an event of kind for name arrives, skipping
// everything else: other domains and kinds the test does not care about.
func (s *suite) awaitEvent(t *testing.T, events <-chan hypervisor.Event, name string, kind hypervisor.EventKind) {
	t.Helper()
	timeout := time.After(s.opts.EventTimeout)
	for {
		select {
		case ev, ok := <-events:
			if !ok {
				t.Fatalf("event channel closed while waiting for %s of %s", kind, name)
			}
			if ev.Name == name && ev.Kind == kind {
				return
			}
		case <-timeout:
			t.Fatalf("no %s event for %s within %s", kind, name, s.opts.EventTimeout)
		}
	}
}

func (s *suite) awaitClosed(t *testing.T, events <-chan hypervisor.Event) {
	t.Helper()
	timeout := time.After(s.opts.EventTimeout)
	for {
		select {
		case _, ok := <-events:
			if !ok {
				return
			}
		case <-timeout:
			t.Fatalf("event channel still open %s after its context ended", s.opts.EventTimeout)
		}
	}
}
