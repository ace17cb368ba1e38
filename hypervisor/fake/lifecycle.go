package fake

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"

	"kumo/hypervisor"
)

func (d *Driver) Define(ctx context.Context, spec hypervisor.Spec) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "define"); err != nil {
		return err
	}
	if spec.Name == "" {
		return errors.New("fake: define: spec has no name")
	}
	if _, ok := d.domains[spec.Name]; ok {
		return fmt.Errorf("fake: define %q: %w", spec.Name, hypervisor.ErrExists)
	}
	uuid := spec.UUID
	if uuid == "" {
		uuid = newUUID()
	}
	for _, other := range d.domains {
		if other.uuid == uuid {
			return fmt.Errorf("fake: define %q: uuid %s belongs to %q: %w", spec.Name, uuid, other.spec.Name, hypervisor.ErrExists)
		}
	}
	d.domains[spec.Name] = &domain{spec: cloneSpec(spec), uuid: uuid, state: hypervisor.PowerShutoff}
	d.emitLocked(spec.Name, hypervisor.EventDefined, "added")
	return nil
}

func (d *Driver) Start(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.prologue(ctx, "start", name)
	if err != nil {
		return err
	}
	if dom.state != hypervisor.PowerShutoff && dom.state != hypervisor.PowerCrashed {
		return fmt.Errorf("fake: start %q (%s): %w", name, dom.state, hypervisor.ErrInvalidState)
	}
	// libvirt resolves networks only when QEMU starts, not at define time.
	for _, nic := range dom.spec.NICs {
		if _, ok := d.networks[nic.Network]; !ok {
			return fmt.Errorf("fake: start %q: network %q does not exist", name, nic.Network)
		}
	}
	dom.state = hypervisor.PowerRunning
	d.emitLocked(name, hypervisor.EventStarted, "booted")
	return nil
}

func (d *Driver) Shutdown(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.prologue(ctx, "shutdown", name)
	if err != nil {
		return err
	}
	switch dom.state {
	case hypervisor.PowerShutoff:
		return nil
	case hypervisor.PowerRunning, hypervisor.PowerShuttingDown:
	default:
		return fmt.Errorf("fake: shutdown %q (%s): %w", name, dom.state, hypervisor.ErrInvalidState)
	}
	if d.ignoreACPI[name] {
		return nil
	}
	dom.powerOff()
	d.emitLocked(name, hypervisor.EventStopped, "shutdown")
	return nil
}

func (d *Driver) Reboot(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.prologue(ctx, "reboot", name)
	if err != nil {
		return err
	}
	if dom.state != hypervisor.PowerRunning {
		return fmt.Errorf("fake: reboot %q (%s): %w", name, dom.state, hypervisor.ErrInvalidState)
	}
	if !d.ignoreACPI[name] {
		d.emitLocked(name, hypervisor.EventRebooted, "acpi")
	}
	return nil
}

func (d *Driver) Destroy(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.prologue(ctx, "destroy", name)
	if err != nil {
		return err
	}
	if dom.state == hypervisor.PowerShutoff {
		return nil
	}
	dom.powerOff()
	d.emitLocked(name, hypervisor.EventStopped, "destroyed")
	return nil
}

func (d *Driver) Undefine(ctx context.Context, name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "undefine"); err != nil {
		return err
	}
	dom, ok := d.domains[name]
	if !ok {
		return nil
	}
	if dom.state != hypervisor.PowerShutoff {
		return fmt.Errorf("fake: undefine %q (%s): %w", name, dom.state, hypervisor.ErrInvalidState)
	}
	delete(d.domains, name)
	d.emitLocked(name, hypervisor.EventUndefined, "removed")
	return nil
}

func (d *Driver) prologue(ctx context.Context, op, name string) (*domain, error) {
	if err := d.enter(ctx, op); err != nil {
		return nil, err
	}
	return d.lookup(op, name)
}

// cloneSpec keeps callers from changing a defined domain by mutating the
// slices they passed in, as they cannot with a real hypervisor.
func cloneSpec(s hypervisor.Spec) hypervisor.Spec {
	s.Disks = append([]hypervisor.Disk(nil), s.Disks...)
	s.NICs = append([]hypervisor.NIC(nil), s.NICs...)
	s.Channels = append([]string(nil), s.Channels...)
	return s
}

func newUUID() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
