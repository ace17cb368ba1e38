package conformance

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"kumo/hypervisor"
)

// The driver must be able to run the domain again after each of these,
// since that is what a restored instance is: a defined domain like any
// other.

func (s *suite) snapshotter(t *testing.T) (hypervisor.Driver, hypervisor.MemorySnapshotter) {
	t.Helper()
	d := s.driver(t)
	snap, ok := d.(hypervisor.MemorySnapshotter)
	if !ok {
		t.Skip("driver does not implement hypervisor.MemorySnapshotter")
	}
	return d, snap
}

// saved starts a fresh domain and saves it to a file in a folder of its
// own, which it returns with the path.
func (s *suite) saved(t *testing.T, d hypervisor.Driver, snap hypervisor.MemorySnapshotter) (hypervisor.Spec, string) {
	t.Helper()
	tmpl := s.define(t, d)
	s.start(t, d, tmpl.Name)
	path := filepath.Join(t.TempDir(), "memory.save")
	if err := snap.SaveMemory(ctx(t), tmpl.Name, path); err != nil {
		t.Fatalf("SaveMemory(%s): %v", tmpl.Name, err)
	}
	return tmpl, path
}

func (s *suite) testSaveRestore(t *testing.T) {
	d, snap := s.snapshotter(t)
	c, cancel := context.WithCancel(ctx(t))
	defer cancel()
	events, err := d.Events(c)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	tmpl, path := s.saved(t, d, snap)
	s.awaitEvent(t, events, tmpl.Name, hypervisor.EventStopped)
	wantState(t, d, tmpl.Name, hypervisor.PowerShutoff)
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("after SaveMemory: %v (size %v)", err, st)
	}
	wantOnly(t, path)

	target := s.define(t, d)
	before, err := d.Inspect(ctx(t), target.Name)
	if err != nil {
		t.Fatalf("Inspect: %v", err)
	}
	if err := snap.RestoreMemory(ctx(t), path, target); err != nil {
		t.Fatalf("RestoreMemory(%s): %v", target.Name, err)
	}
	s.awaitEvent(t, events, target.Name, hypervisor.EventStarted)
	after, err := d.Inspect(ctx(t), target.Name)
	if err != nil {
		t.Fatalf("Inspect after RestoreMemory: %v", err)
	}
	// The domain keeps its own identity, not the saved domain's.
	want := before
	want.State = hypervisor.PowerRunning
	if after != want {
		t.Fatalf("Inspect after RestoreMemory = %+v\nwant                         %+v", after, want)
	}
	wantState(t, d, tmpl.Name, hypervisor.PowerShutoff)
	// The file serves more restores.
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("save file gone after RestoreMemory: %v", err)
	}

	// A restored domain is a defined domain like any other.
	if err := d.Destroy(ctx(t), target.Name); err != nil {
		t.Fatalf("Destroy: %v", err)
	}
	wantState(t, d, target.Name, hypervisor.PowerShutoff)
	s.start(t, d, target.Name)
	if dom, err := d.Inspect(ctx(t), target.Name); err != nil || dom.UUID != before.UUID || dom.Metadata != target.Metadata {
		t.Fatalf("Inspect after a cold start = %+v, %v; want UUID %s and the spec's metadata", dom, err, before.UUID)
	}
}

// Callers replace an older save in place; a failed save must leave it.
func (s *suite) testSaveReplacesAtomically(t *testing.T) {
	d, snap := s.snapshotter(t)
	spec := s.define(t, d)
	path := filepath.Join(t.TempDir(), "memory.save")
	old := []byte("an older save")
	if err := os.WriteFile(path, old, 0o600); err != nil {
		t.Fatal(err)
	}
	wantErr(t, "SaveMemory of a stopped domain", snap.SaveMemory(ctx(t), spec.Name, path), hypervisor.ErrInvalidState)
	if b, err := os.ReadFile(path); err != nil || !bytes.Equal(b, old) {
		t.Fatalf("a failed SaveMemory changed the file: %q, %v", b, err)
	}
	s.start(t, d, spec.Name)
	if err := snap.SaveMemory(ctx(t), spec.Name, path); err != nil {
		t.Fatalf("SaveMemory: %v", err)
	}
	if b, err := os.ReadFile(path); err != nil || bytes.Equal(b, old) {
		t.Fatalf("SaveMemory did not replace the file: %v", err)
	}
	wantOnly(t, path)
}

// kumo launches several instances from one file at once.
func (s *suite) testRestoreConcurrently(t *testing.T) {
	d, snap := s.snapshotter(t)
	_, path := s.saved(t, d, snap)
	const n = 3
	targets := make([]hypervisor.Spec, n)
	for i := range targets {
		targets[i] = s.define(t, d)
	}
	var wg sync.WaitGroup
	errs := make([]error, n)
	c := ctx(t)
	for i, spec := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = snap.RestoreMemory(c, path, spec)
		}()
	}
	wg.Wait()
	for i, spec := range targets {
		if errs[i] != nil {
			t.Errorf("RestoreMemory(%s): %v", spec.Name, errs[i])
			continue
		}
		wantState(t, d, spec.Name, hypervisor.PowerRunning)
	}
	wantOnly(t, path)
}

func (s *suite) testSnapshotErrors(t *testing.T) {
	d, snap := s.snapshotter(t)
	tmpl, path := s.saved(t, d, snap)
	dir := t.TempDir()

	missing := s.spec(uniqueName())
	wantErr(t, "SaveMemory of a missing domain", snap.SaveMemory(ctx(t), missing.Name, filepath.Join(dir, "x")), hypervisor.ErrNotFound)
	wantErr(t, "SaveMemory of a stopped domain", snap.SaveMemory(ctx(t), tmpl.Name, filepath.Join(dir, "x")), hypervisor.ErrInvalidState)
	wantErr(t, "RestoreMemory of a missing domain", snap.RestoreMemory(ctx(t), path, missing), hypervisor.ErrNotFound)
	if _, err := d.Inspect(ctx(t), missing.Name); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Fatalf("RestoreMemory of a missing domain created it: Inspect = %v", err)
	}

	running := s.define(t, d)
	s.start(t, d, running.Name)
	wantErr(t, "RestoreMemory onto a running domain", snap.RestoreMemory(ctx(t), path, running), hypervisor.ErrInvalidState)
	wantState(t, d, running.Name, hypervisor.PowerRunning)

	target := s.define(t, d)
	garbage := filepath.Join(dir, "garbage")
	if err := os.WriteFile(garbage, bytes.Repeat([]byte("not a save image\n"), 100), 0o600); err != nil {
		t.Fatal(err)
	}
	bigger := target
	bigger.MemoryMiB *= 2
	for what, restore := range map[string]func() error{
		"a missing file":         func() error { return snap.RestoreMemory(ctx(t), filepath.Join(dir, "missing"), target) },
		"a file of another kind": func() error { return snap.RestoreMemory(ctx(t), garbage, target) },
		// The saved guest's devices must be the spec's, or its files and
		// names would land on the wrong ones.
		"a domain of another shape": func() error { return snap.RestoreMemory(ctx(t), path, bigger) },
	} {
		if err := restore(); err == nil {
			t.Fatalf("RestoreMemory from %s succeeded", what)
		}
		wantState(t, d, target.Name, hypervisor.PowerShutoff)
	}
}

// wantOnly fails unless path is the only file in its folder: saves and
// restores must not leave temporary files behind.
func wantOnly(t *testing.T, path string) {
	t.Helper()
	entries, err := os.ReadDir(filepath.Dir(path))
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != filepath.Base(path) {
			t.Errorf("%s left next to %s", e.Name(), path)
		}
	}
}
