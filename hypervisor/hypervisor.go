// Package hypervisor is the contract between kumo's control plane and the
// software that runs virtual machines on a host.
//
// It owns the vocabulary of a virtual machine as a hypervisor sees it (a
// domain, its power state, its disks and NICs, lifecycle events) and nothing
// else: it must not know about instances, images, accounts, the state store
// or the API. Drivers (libvirt, the fake) implement Driver; the control plane
// depends only on this package.
package hypervisor

import (
	"context"
	"errors"
	"io"
)

// Errors every driver returns, wrapped with context, so callers can decide
// with errors.Is rather than by reading messages.
var (
	ErrNotFound = errors.New("domain not found")
	ErrExists   = errors.New("domain already exists")
	// ErrInvalidState means the domain is not in a power state that allows
	// the operation (starting a running domain, rebooting a stopped one).
	ErrInvalidState = errors.New("domain is in the wrong power state")
)

// PowerState is what the hypervisor says about a domain, independent of what
// the control plane wants it to be.
type PowerState int

const (
	PowerUnknown PowerState = iota
	PowerRunning
	PowerPaused
	PowerShuttingDown
	PowerShutoff
	PowerCrashed
)

var powerStateNames = [...]string{"unknown", "running", "paused", "shutting-down", "shutoff", "crashed"}

func (s PowerState) String() string {
	if s < 0 || int(s) >= len(powerStateNames) {
		return "unknown"
	}
	return powerStateNames[s]
}

// Accel is the CPU virtualization a domain uses.
type Accel string

const (
	AccelKVM Accel = "kvm" // hardware virtualization
	AccelTCG Accel = "tcg" // QEMU's software emulation
)

// DiskFormat is the on-disk format of a disk image.
type DiskFormat string

const (
	FormatQCOW2 DiskFormat = "qcow2"
	FormatRaw   DiskFormat = "raw"
)

// Disk is a block device given to the guest, in order: the first is vda.
type Disk struct {
	Path     string
	Format   DiskFormat
	ReadOnly bool
}

// NIC attaches the guest to a host network.
type NIC struct {
	MAC     string // "52:54:00:xx:xx:xx"
	Network string // name of the hypervisor network (libvirt network name)
}

// Spec is everything needed to define a domain.
type Spec struct {
	Name      string // unique on the host; kumo uses the instance id
	UUID      string // optional; the driver picks one when empty
	VCPUs     int
	MemoryMiB int
	// Direct kernel boot when Kernel is set; otherwise the first disk boots.
	Kernel  string
	Initrd  string
	Cmdline string
	Disks   []Disk
	NICs    []NIC
	// ConsoleLog, when set, is a host file that receives the serial console.
	ConsoleLog string
	// Metadata is an opaque string stored with the domain (the control
	// plane records what it needs to recognise its own domains).
	Metadata string
	// Channels are named virtio-serial ports through which the host can
	// send the guest data (see ChannelWriter).
	Channels []string
}

// Domain is a defined virtual machine as the hypervisor reports it.
type Domain struct {
	Name     string
	UUID     string
	State    PowerState
	Metadata string
}

// EventKind classifies lifecycle events.
type EventKind int

const (
	EventDefined EventKind = iota
	EventUndefined
	EventStarted
	EventStopped // powered off, cleanly or not
	EventCrashed
	EventSuspended
	EventResumed
	EventRebooted
)

var eventKindNames = [...]string{"defined", "undefined", "started", "stopped", "crashed", "suspended", "resumed", "rebooted"}

func (k EventKind) String() string {
	if k < 0 || int(k) >= len(eventKindNames) {
		return "unknown"
	}
	return eventKindNames[k]
}

// Event is a lifecycle change of a domain, delivered as it happens.
type Event struct {
	Name   string
	Kind   EventKind
	Detail string // the hypervisor's reason, for logs ("destroyed", "shutdown", "failed")
}

// HostInfo describes the machine a driver manages.
type HostInfo struct {
	Hostname  string
	Arch      string // "x86_64"
	CPUs      int
	MemoryMiB int
	Accel     Accel
}

// Network describes a hypervisor network that guests attach to.
type Network struct {
	Name    string
	Bridge  string
	CIDR    string // the network's subnet, "10.77.0.0/24"
	Gateway string // the host's address on it, "10.77.0.1"
}

// Driver manages the domains of one host. Every method is safe for
// concurrent use. Methods that change state are idempotent where the
// desired outcome already holds: Destroy of a stopped domain, Undefine of a
// missing one and Shutdown of a stopped one succeed.
type Driver interface {
	Host(ctx context.Context) (HostInfo, error)
	Network(ctx context.Context, name string) (Network, error)

	// Define records a persistent domain; ErrExists when the name is taken.
	Define(ctx context.Context, spec Spec) error
	// Start powers on a defined domain; ErrInvalidState when it runs.
	Start(ctx context.Context, name string) error
	// Shutdown asks the guest to power off (ACPI) and returns at once.
	Shutdown(ctx context.Context, name string) error
	// Reboot asks the guest to restart (ACPI) and returns at once.
	Reboot(ctx context.Context, name string) error
	// Destroy powers the domain off at once, like pulling the plug.
	Destroy(ctx context.Context, name string) error
	// Undefine forgets a stopped domain; it does not touch its disks.
	Undefine(ctx context.Context, name string) error

	Inspect(ctx context.Context, name string) (Domain, error)
	// List returns every domain on the host, kumo's or not; callers filter.
	List(ctx context.Context) ([]Domain, error)

	// Events delivers lifecycle events until ctx ends; the channel is then
	// closed. Events may be dropped under load: they are a hint to look
	// again, and callers must also reconcile periodically.
	Events(ctx context.Context) (<-chan Event, error)

	Close() error
}

// MemorySnapshotter is implemented by drivers that can save a running
// domain's memory and device state to a file and start other domains from
// it: a guest restored from a saved boot skips booting.
type MemorySnapshotter interface {
	// SaveMemory writes the running domain's state to path and powers it
	// off; the domain stays defined. The file is complete once it returns.
	SaveMemory(ctx context.Context, name, path string) error
	// RestoreMemory starts the defined, shut-off domain spec.Name from a
	// file SaveMemory wrote for another domain of the same shape (vCPUs,
	// memory, the same kinds of disks, NICs and channels in the same order).
	// The domain keeps its own name, UUID, disk files, console log and
	// metadata. The guest's view of its devices comes from the file, so NICs
	// keep the saved MAC addresses: the guest must be told its own.
	RestoreMemory(ctx context.Context, path string, spec Spec) error
}

// ChannelWriter is implemented by drivers that can write to a running
// domain's channels (Spec.Channels).
type ChannelWriter interface {
	// ChannelConnected reports whether the guest has the channel open, that
	// is whether a write would reach a reader now.
	ChannelConnected(ctx context.Context, name, channel string) (bool, error)
	// WriteChannel writes data to the channel. The guest should have it
	// open (ChannelConnected), or the data may wait or be lost.
	WriteChannel(ctx context.Context, name, channel string, data []byte) error
}

// SerialConsole is implemented by drivers that can attach to a running
// domain's serial console, as a person at its keyboard would.
type SerialConsole interface {
	// OpenConsole connects to the serial console of the running domain
	// name: reads return what the guest prints from then on, writes are
	// typed into it. Reads end with io.EOF when the domain stops.
	// ErrInvalidState when it is not running. A driver may allow one
	// connection per domain at a time: callers share one.
	OpenConsole(ctx context.Context, name string) (io.ReadWriteCloser, error)
}
