package fake

import (
	"fmt"

	"kumo/hypervisor"
)

// Ops accepted by FailNext, one per Driver method that can fail.
var failOps = map[string]bool{
	"define": true, "start": true, "shutdown": true, "reboot": true,
	"destroy": true, "undefine": true, "inspect": true, "list": true,
	"host": true, "network": true, "events": true,
	"save": true, "restore": true, "channel-connected": true, "write-channel": true,
	"domain-stats": true,
}

// FailNext makes the next call of op return err without doing anything.
// Calls queue: two FailNext("start", ...) fail the next two starts. An
// unknown op panics, since a typo would silently disable the fault.
func (d *Driver) FailNext(op string, err error) {
	if !failOps[op] {
		panic(fmt.Sprintf("fake: FailNext: unknown op %q", op))
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	d.failNext[op] = append(d.failNext[op], err)
}

// Crash simulates QEMU dying under a running domain: it is shut off and
// subscribers see EventCrashed then EventStopped, as libvirt reports a
// failed QEMU process.
func (d *Driver) Crash(name string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.lookup("crash", name)
	if err != nil {
		return err
	}
	if dom.state == hypervisor.PowerShutoff {
		return fmt.Errorf("fake: crash %q (%s): %w", name, dom.state, hypervisor.ErrInvalidState)
	}
	dom.powerOff()
	d.emitLocked(name, hypervisor.EventCrashed, "failed")
	d.emitLocked(name, hypervisor.EventStopped, "failed")
	return nil
}

// SetIgnoreShutdown makes the guest of domain name ignore ACPI requests, as
// a guest without acpid does: Shutdown and Reboot succeed and change
// nothing. The knob is kept by name, so it may be set before Define and
// survives Undefine.
func (d *Driver) SetIgnoreShutdown(name string, ignore bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if ignore {
		d.ignoreACPI[name] = true
	} else {
		delete(d.ignoreACPI, name)
	}
}

// Spec returns the spec a domain was defined with, so tests can check what
// the control plane asked for (disks, NICs, kernel).
func (d *Driver) Spec(name string) (hypervisor.Spec, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, ok := d.domains[name]
	if !ok {
		return hypervisor.Spec{}, false
	}
	return cloneSpec(dom.spec), true
}
