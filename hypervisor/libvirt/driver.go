// Package libvirt is the hypervisor.Driver that runs real VMs: it turns a
// hypervisor.Spec into libvirt domain XML, drives domains through libvirtd
// (QEMU with KVM, or TCG where there is no KVM) and translates libvirt's
// errors and lifecycle events into package hypervisor's vocabulary.
//
// It owns everything libvirt-specific and nothing else: it must not know
// about instances, images, accounts or the API, and imports nothing from
// kumo but package hypervisor.
package libvirt

import (
	"context"
	"fmt"
	"sync"

	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

var _ hypervisor.Driver = (*Driver)(nil)

// Options configures a Driver.
type Options struct {
	// Accel is "auto" (the default: KVM when the CPU and /dev/kvm allow
	// it, TCG otherwise), "kvm" or "tcg".
	Accel string
}

// Driver manages the domains of one libvirt connection.
type Driver struct {
	conn  *lv.Connect
	accel hypervisor.Accel
	// domainType is the <domain type> for this connection: "kvm" or
	// "qemu" from accel, or "test" for libvirt's test driver, which
	// accepts no other.
	domainType string

	// defineMu makes check-then-define atomic within this process;
	// libvirt's define would otherwise replace a same-named domain.
	defineMu sync.Mutex

	callbacks []int // libvirt event callback ids

	mu     sync.Mutex // guards subs and closed
	subs   map[chan hypervisor.Event]struct{}
	closed bool
}

// New connects to libvirt at uri ("qemu:///system", "test:///default").
func New(uri string, opts Options) (*Driver, error) {
	accel, err := resolveAccel(opts.Accel)
	if err != nil {
		return nil, err
	}
	// libvirt only delivers events and keepalives on connections opened
	// after an event implementation is registered.
	if err := startEventLoop(); err != nil {
		return nil, err
	}
	conn, err := lv.NewConnect(uri)
	if err != nil {
		return nil, fmt.Errorf("libvirt: connect %s: %w", uri, err)
	}
	d := &Driver{conn: conn, accel: accel, subs: make(map[chan hypervisor.Event]struct{})}
	// Without keepalive a dead libvirtd is noticed only when a call hangs
	// on its socket. Local in-process drivers (test://) do not support it
	// and cannot die separately anyway.
	if err := conn.SetKeepAlive(5, 3); err != nil && code(err) != lv.ERR_NO_SUPPORT {
		conn.Close()
		return nil, fmt.Errorf("libvirt: keepalive on %s: %w", uri, err)
	}
	typ, err := conn.GetType()
	if err != nil {
		conn.Close()
		return nil, fmt.Errorf("libvirt: connection type of %s: %w", uri, err)
	}
	switch {
	case typ == "Test":
		d.domainType = "test"
	case accel == hypervisor.AccelKVM:
		d.domainType = "kvm"
	default:
		d.domainType = "qemu"
	}
	if err := d.watchEvents(); err != nil {
		conn.Close()
		return nil, err
	}
	return d, nil
}

// Close ends every event subscription and the connection.
func (d *Driver) Close() error {
	d.mu.Lock()
	if d.closed {
		d.mu.Unlock()
		return nil
	}
	d.closed = true
	for ch := range d.subs {
		d.unsubscribeLocked(ch)
	}
	d.mu.Unlock()
	d.unwatchEvents()
	if _, err := d.conn.Close(); err != nil {
		return fmt.Errorf("libvirt: close: %w", err)
	}
	return nil
}

func (d *Driver) Host(ctx context.Context) (hypervisor.HostInfo, error) {
	if err := ctx.Err(); err != nil {
		return hypervisor.HostInfo{}, err
	}
	info, err := d.conn.GetNodeInfo()
	if err != nil {
		return hypervisor.HostInfo{}, fmt.Errorf("libvirt: node info: %w", err)
	}
	hostname, err := d.conn.GetHostname()
	if err != nil {
		return hypervisor.HostInfo{}, fmt.Errorf("libvirt: hostname: %w", err)
	}
	return hypervisor.HostInfo{
		Hostname: hostname,
		// virNodeInfo.model is the host's uname machine, not a CPU model.
		Arch:      info.Model,
		CPUs:      int(info.Cpus),
		MemoryMiB: int(info.Memory / 1024),
		Accel:     d.accel,
	}, nil
}
