// Package fake is an in-memory hypervisor.Driver for unit tests of the
// control plane: domains are records in a map, power changes happen at once,
// and knobs inject the failures a real host produces (errors, guests that
// ignore ACPI, QEMU dying) and play the guest's side of its channels. It
// also implements the optional MemorySnapshotter, ChannelWriter,
// SerialConsole and StatsReader.
//
// It owns nothing but that simulation. It must not know about instances,
// images or anything else in kumo beyond package hypervisor, so that tests
// built on it exercise the same contract the libvirt driver honours.
package fake

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"sync"

	"kumo/hypervisor"
)

var _ hypervisor.Driver = (*Driver)(nil)

// Options configures a fake host. Zero values pick the defaults documented
// on each field.
type Options struct {
	// Host defaults to 2 CPUs, 4096 MiB, x86_64, TCG, hostname "fake".
	Host hypervisor.HostInfo
	// Networks defaults to DefaultNetwork alone.
	Networks []hypervisor.Network
	// EventBuffer is each subscriber's channel capacity; default 64.
	EventBuffer int
}

// DefaultNetwork mirrors the network kumo creates on a real host, so tests
// that never configure networks still find one.
var DefaultNetwork = hypervisor.Network{
	Name:    "kumo",
	Bridge:  "kumobr0",
	CIDR:    "10.77.0.0/24",
	Gateway: "10.77.0.1",
}

var errClosed = errors.New("fake: driver closed")

// Driver is the fake host. The zero value is not usable; call New.
type Driver struct {
	mu          sync.Mutex
	host        hypervisor.HostInfo
	networks    map[string]hypervisor.Network
	domains     map[string]*domain
	failNext    map[string][]error
	ignoreACPI  map[string]bool
	written     map[string]map[string][][]byte // domain, channel: writes in order
	subscribers map[*subscriber]struct{}
	eventBuffer int
	uuidSeq     uint64
	closed      bool
}

type domain struct {
	spec  hypervisor.Spec
	uuid  string
	state hypervisor.PowerState
	// Of the current run only: the channels the guest has open, the image
	// it was restored from and its counters (see AddStats).
	connected    map[string]bool
	restoredFrom string
	stats        hypervisor.DomainStats
	console      *serial
}

// powerOff ends the current run; the guest's open channels go with it.
func (dom *domain) powerOff() {
	dom.state = hypervisor.PowerShutoff
	dom.connected = nil
	dom.restoredFrom = ""
	dom.stats = hypervisor.DomainStats{}
	if dom.console != nil {
		dom.console.end(io.EOF)
		dom.console = nil
	}
}

// New returns an empty fake host.
func New(opts Options) *Driver {
	host := opts.Host
	if host.Hostname == "" {
		host.Hostname = "fake"
	}
	if host.Arch == "" {
		host.Arch = "x86_64"
	}
	if host.CPUs == 0 {
		host.CPUs = 2
	}
	if host.MemoryMiB == 0 {
		host.MemoryMiB = 4096
	}
	if host.Accel == "" {
		host.Accel = hypervisor.AccelTCG
	}
	nets := opts.Networks
	if nets == nil {
		nets = []hypervisor.Network{DefaultNetwork}
	}
	d := &Driver{
		host:        host,
		networks:    make(map[string]hypervisor.Network, len(nets)),
		domains:     make(map[string]*domain),
		failNext:    make(map[string][]error),
		ignoreACPI:  make(map[string]bool),
		written:     make(map[string]map[string][][]byte),
		subscribers: make(map[*subscriber]struct{}),
		eventBuffer: opts.EventBuffer,
	}
	if d.eventBuffer <= 0 {
		d.eventBuffer = 64
	}
	for _, n := range nets {
		d.networks[n.Name] = n
	}
	return d
}

func (d *Driver) Host(ctx context.Context) (hypervisor.HostInfo, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "host"); err != nil {
		return hypervisor.HostInfo{}, err
	}
	return d.host, nil
}

func (d *Driver) Network(ctx context.Context, name string) (hypervisor.Network, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "network"); err != nil {
		return hypervisor.Network{}, err
	}
	n, ok := d.networks[name]
	if !ok {
		// hypervisor has no network sentinel; ErrNotFound lets callers
		// use one errors.Is for every missing object.
		return hypervisor.Network{}, fmt.Errorf("fake: network %q: %w", name, hypervisor.ErrNotFound)
	}
	return n, nil
}

func (d *Driver) Inspect(ctx context.Context, name string) (hypervisor.Domain, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "inspect"); err != nil {
		return hypervisor.Domain{}, err
	}
	dom, err := d.lookup("inspect", name)
	if err != nil {
		return hypervisor.Domain{}, err
	}
	return dom.public(), nil
}

func (d *Driver) List(ctx context.Context) ([]hypervisor.Domain, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "list"); err != nil {
		return nil, err
	}
	out := make([]hypervisor.Domain, 0, len(d.domains))
	for _, dom := range d.domains {
		out = append(out, dom.public())
	}
	// Map order is random; a stable order keeps callers' tests stable.
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// Close ends every event subscription; later calls fail.
func (d *Driver) Close() error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil
	}
	d.closed = true
	for s := range d.subscribers {
		d.unsubscribeLocked(s)
	}
	return nil
}

// enter is the common prologue of every operation: refuse after Close or a
// cancelled context, then consume an injected failure for op. Callers hold mu.
func (d *Driver) enter(ctx context.Context, op string) error {
	if d.closed {
		return errClosed
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if q := d.failNext[op]; len(q) > 0 {
		err := q[0]
		d.failNext[op] = q[1:]
		return err
	}
	return nil
}

func (d *Driver) lookup(op, name string) (*domain, error) {
	dom, ok := d.domains[name]
	if !ok {
		return nil, fmt.Errorf("fake: %s %q: %w", op, name, hypervisor.ErrNotFound)
	}
	return dom, nil
}

func (dom *domain) public() hypervisor.Domain {
	return hypervisor.Domain{
		Name:     dom.spec.Name,
		UUID:     dom.uuid,
		State:    dom.state,
		Metadata: dom.spec.Metadata,
	}
}
