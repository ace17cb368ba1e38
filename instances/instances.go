// Package instances owns the instance lifecycle: the EC2 state machine, the
// launch steps, and the loop that drives each instance's hypervisor domain
// towards the state recorded for it.
//
// The store is the source of truth. Every action first records the new state
// (compare-and-set, so concurrent actions cannot both win), then hands the
// instance to converge, which reads the record and does whatever the
// hypervisor still lacks. Because converge is idempotent and level-triggered,
// the same code resumes half-done work after a crash, reacts to lifecycle
// events and repairs drift found by the periodic resync.
//
// It must not know about the API, HTTP or libvirt: it speaks to hosts only
// through hypervisor.Driver.
package instances

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"kumo/hypervisor"
	"kumo/images"
	"kumo/internal/clock"
	"kumo/store"
)

// Error kinds of this package, mapped to EC2 codes by the API.
var (
	ErrNotFound  = errors.New("instance not found")
	ErrMalformed = errors.New("malformed instance id")
	// ErrTokenMismatch is a client token reused with another request.
	ErrTokenMismatch = errors.New("client token reused with other parameters")
)

// Config tunes the service; zero fields take the defaults below.
type Config struct {
	DataDir string // instance disks live in DataDir/<instance id>/
	// TemplateDir holds templates, saved booted guests that launches
	// restore instead of booting; empty disables them.
	TemplateDir string
	Network     string // the hypervisor network instances attach to
	Host        string // the host name recorded with each instance
	// StopTimeout is how long a guest gets to power off after an ACPI
	// shutdown before it is forced off.
	StopTimeout time.Duration
	// RebootTimeout is how long a guest gets to restart after an ACPI
	// reboot request before it is power-cycled, as EC2 does.
	RebootTimeout time.Duration
	// Retention is how long terminated instances stay visible.
	Retention time.Duration
	// ResyncInterval is how often every instance is compared with its domain.
	ResyncInterval time.Duration
	// MaxInstances caps live (not terminated) instances.
	MaxInstances int
	// MaxPerOwner caps one account's live instances, as EC2's instance
	// limit does.
	MaxPerOwner int
	// Capacity places instances on hosts and claims their CPU and memory
	// there; nil places every instance on Host and claims nothing.
	Capacity Capacity
	// Hosts are the other hosts instances may run on; nil runs them all
	// on Host.
	Hosts Hosts
}

func (c *Config) setDefaults() {
	if c.Network == "" {
		c.Network = "kumo"
	}
	if c.Host == "" {
		c.Host = "local"
	}
	if c.StopTimeout == 0 {
		c.StopTimeout = 60 * time.Second
	}
	if c.RebootTimeout == 0 {
		c.RebootTimeout = 4 * time.Minute
	}
	if c.Retention == 0 {
		c.Retention = time.Hour
	}
	if c.ResyncInterval == 0 {
		c.ResyncInterval = 30 * time.Second
	}
	if c.MaxInstances == 0 {
		c.MaxInstances = 64
	}
	if c.MaxPerOwner == 0 {
		c.MaxPerOwner = 32
	}
	if c.Capacity == nil {
		c.Capacity = noCapacity{host: c.Host}
	}
}

// Service manages instances on one host.
type Service struct {
	cfg      Config
	store    *store.Store
	driver   hypervisor.Driver
	capacity Capacity
	images   *images.Service
	clock    clock.Clock
	log      *slog.Logger
	disks    disks
	owner    string // this control plane's id, recorded in its domains

	ctx    context.Context // ends when the service closes
	cancel context.CancelFunc
	wg     sync.WaitGroup

	mu     sync.Mutex
	locks  map[string]*sync.Mutex // one per instance: converge runs one at a time
	queued map[string]bool        // instances with a converge waiting to run
	forced map[string]bool        // stops that skip the ACPI request

	building        map[string]bool // templates being built, by key
	failedTemplates map[string]bool // templates that could not be built
	watching        map[string]bool // rebooted instances awaiting an identity request
	lastAnswer      map[string]time.Time
	rebootedAt      map[string]time.Time // last reboot event seen, by instance
	stateHooks      []func(id string, state State)
	watchers        map[string]map[chan State]bool // by instance, for actions that wait
	restoreSlots    chan struct{}                  // one per CPU: see restoreOne

	following map[string]context.CancelFunc // hosts besides Host, by name: see HostUp

	consoleMu sync.Mutex // guards consoles; taken before a console's own lock
	consoles  map[string]*sharedConsole
}

// New returns a service. Call Start to reconcile and begin watching events.
func New(cfg Config, st *store.Store, drv hypervisor.Driver, im *images.Service, clk clock.Clock, log *slog.Logger) *Service {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		cfg: cfg, store: st, driver: drv, images: im, clock: clk, log: log, capacity: cfg.Capacity,
		disks: disks{dir: cfg.DataDir},
		ctx:   ctx, cancel: cancel,
		locks: map[string]*sync.Mutex{}, queued: map[string]bool{}, forced: map[string]bool{},
		watchers: map[string]map[chan State]bool{}, restoreSlots: make(chan struct{}, runtime.NumCPU()),
		building: map[string]bool{}, failedTemplates: map[string]bool{}, watching: map[string]bool{},
		lastAnswer: map[string]time.Time{}, rebootedAt: map[string]time.Time{},
		consoles: map[string]*sharedConsole{}, following: map[string]context.CancelFunc{},
	}
}

// Close stops background work and waits for it.
func (s *Service) Close() {
	// Under mu, so that no spawnLocked sees the service open after this
	// and adds to the WaitGroup while Wait runs.
	s.mu.Lock()
	s.cancel()
	s.mu.Unlock()
	s.closeConsoles()
	s.wg.Wait()
}

// spawnLocked runs fn on a goroutine that Close waits for, unless the
// service is closing; it reports whether fn will run. Callers hold s.mu.
func (s *Service) spawnLocked(fn func()) bool {
	if s.ctx.Err() != nil {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// Instance is an instance as callers see it.
type Instance struct {
	store.Instance
	State State
	Type  Type
	// HostDown says that the instance's host cannot be reached: State is
	// the last one known, and nothing can change it until the host returns.
	HostDown bool
}

func (s *Service) view(r store.Instance) Instance {
	t, _ := LookupType(r.Type)
	in := Instance{Instance: r, State: State(r.State), Type: t}
	in.HostDown = hasWork(in.State) && !s.HostReachable(r.Host)
	return in
}
