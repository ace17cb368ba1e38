package fake

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"

	"kumo/hypervisor"
	"kumo/internal/atomicfile"
)

var _ hypervisor.MemorySnapshotter = (*Driver)(nil)

// saveMagic marks the files SaveMemory writes, so that RestoreMemory
// fails on anything else as a real driver would.
const saveMagic = "kumo-fake-save/1"

// savedImage is the content of a fake save file: what a restored copy
// inherits from the saved domain.
type savedImage struct {
	Magic string          `json:"magic"`
	Spec  hypervisor.Spec `json:"spec"`
	// The channels the saved guest had open, which a restored copy has
	// open at once, as a real guest restored mid-read does.
	Connected []string `json:"connected,omitempty"`
}

// SaveMemory writes a small file describing the domain instead of its
// memory, atomically as callers expect of a real driver, and powers the
// domain off.
func (d *Driver) SaveMemory(ctx context.Context, name, path string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.prologue(ctx, "save", name)
	if err != nil {
		return err
	}
	if dom.state != hypervisor.PowerRunning && dom.state != hypervisor.PowerPaused {
		return fmt.Errorf("fake: save %q (%s): %w", name, dom.state, hypervisor.ErrInvalidState)
	}
	img := savedImage{Magic: saveMagic, Spec: cloneSpec(dom.spec)}
	for _, ch := range dom.spec.Channels {
		if dom.connected[ch] {
			img.Connected = append(img.Connected, ch)
		}
	}
	data, err := json.Marshal(img)
	if err != nil {
		return fmt.Errorf("fake: save %q: %w", name, err)
	}
	if err := atomicfile.WriteBytes(path, 0o600, data); err != nil {
		return fmt.Errorf("fake: save %q: %w", name, err)
	}
	dom.powerOff()
	d.emitLocked(name, hypervisor.EventStopped, "saved")
	return nil
}

// RestoreMemory starts the defined domain spec.Name from a file SaveMemory
// wrote, after the checks a real driver makes: the domain must be defined
// and off, and the saved domain must have its shape.
func (d *Driver) RestoreMemory(ctx context.Context, path string, spec hypervisor.Spec) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.prologue(ctx, "restore", spec.Name)
	if err != nil {
		return err
	}
	if dom.state != hypervisor.PowerShutoff && dom.state != hypervisor.PowerCrashed {
		return fmt.Errorf("fake: restore %q (%s): %w", spec.Name, dom.state, hypervisor.ErrInvalidState)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("fake: restore %q: %w", spec.Name, err)
	}
	var img savedImage
	if err := json.Unmarshal(data, &img); err != nil || img.Magic != saveMagic {
		return fmt.Errorf("fake: restore %q: %s is not a save file", spec.Name, path)
	}
	if err := sameShape(img.Spec, spec); err != nil {
		return fmt.Errorf("fake: restore %q from %s: %w", spec.Name, path, err)
	}
	for _, nic := range dom.spec.NICs {
		if _, ok := d.networks[nic.Network]; !ok {
			return fmt.Errorf("fake: restore %q: network %q does not exist", spec.Name, nic.Network)
		}
	}
	dom.state = hypervisor.PowerRunning
	dom.connected = map[string]bool{}
	for _, ch := range img.Connected {
		dom.connected[ch] = true
	}
	dom.restoredFrom = path
	d.emitLocked(spec.Name, hypervisor.EventStarted, "restored")
	return nil
}

// sameShape is the part of a real driver's checks that the fake can make:
// the devices of saved and spec must correspond one to one.
func sameShape(saved, spec hypervisor.Spec) error {
	var errs []error
	if saved.VCPUs != spec.VCPUs || saved.MemoryMiB != spec.MemoryMiB {
		errs = append(errs, fmt.Errorf("saved %d vCPUs and %d MiB, spec %d and %d", saved.VCPUs, saved.MemoryMiB, spec.VCPUs, spec.MemoryMiB))
	}
	if len(saved.Disks) != len(spec.Disks) {
		errs = append(errs, fmt.Errorf("saved %d disks, spec %d", len(saved.Disks), len(spec.Disks)))
	} else {
		for i := range saved.Disks {
			if saved.Disks[i].Format != spec.Disks[i].Format || saved.Disks[i].ReadOnly != spec.Disks[i].ReadOnly {
				errs = append(errs, fmt.Errorf("disk %d: saved %+v, spec %+v", i, saved.Disks[i], spec.Disks[i]))
			}
		}
	}
	if len(saved.NICs) != len(spec.NICs) {
		errs = append(errs, fmt.Errorf("saved %d NICs, spec %d", len(saved.NICs), len(spec.NICs)))
	}
	if !slices.Equal(saved.Channels, spec.Channels) {
		errs = append(errs, fmt.Errorf("saved channels %q, spec %q", saved.Channels, spec.Channels))
	}
	return errors.Join(errs...)
}
