// Package hosts owns the fleet: the hypervisor hosts kumo places instances
// on, their registration, their administrative state (enabled or
// draining), their health, one hypervisor connection per host, and the
// capacity instances claim on them. Place turns a scheduler request into
// capacity claims in one store transaction, so concurrent launches never
// book a host past its overcommitted capacity.
//
// It must not know about instances, images, the API or HTTP: a claim is
// held by an instance id and nothing more, and it reaches hosts only
// through hypervisor.Driver values made by the constructor it is given.
package hosts

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"kumo/hypervisor"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/scheduler"
	"kumo/store"
)

// Error kinds of this package, for the API's error table.
var (
	ErrNotFound      = errors.New("host not found")
	ErrDuplicateName = errors.New("duplicate host name")
	ErrDuplicateURI  = errors.New("host URI already registered")
	// ErrInUse is a removal of a host that instances still hold capacity on.
	ErrInUse = errors.New("host in use")
	// ErrUnreachable is a host kumo cannot talk to now.
	ErrUnreachable = errors.New("host unreachable")
	// ErrClaimed is a placement of an instance that already holds capacity.
	ErrClaimed = errors.New("instance already holds capacity")
)

// State is a host's administrative state, the operator's choice.
type State string

const (
	StateEnabled  State = "enabled"  // takes new instances while up
	StateDraining State = "draining" // keeps its instances, takes no new ones
)

// Health is what kumo last saw of a host.
type Health string

const (
	HealthUnknown Health = "unknown" // not probed since the service opened
	HealthUp      Health = "up"
	HealthDown    Health = "down"
)

// Connect opens a driver for the host at a libvirt URI.
type Connect func(uri string) (hypervisor.Driver, error)

// Config tunes the service; zero fields take the defaults below.
type Config struct {
	// HealthInterval is how often every host is probed; default 10s.
	HealthInterval time.Duration
	// ProbeTimeout bounds one probe; default 5s.
	ProbeTimeout time.Duration
	// Probes is how many hosts are probed at once; default 32.
	Probes int
	// CPURatio and MemoryRatio are the overcommit ratios of hosts
	// registered without their own; default scheduler.DefaultCPURatio and
	// scheduler.DefaultMemoryRatio.
	CPURatio    float64
	MemoryRatio float64
}

func (c *Config) setDefaults() {
	if c.HealthInterval == 0 {
		c.HealthInterval = 10 * time.Second
	}
	if c.ProbeTimeout == 0 {
		c.ProbeTimeout = 5 * time.Second
	}
	if c.Probes == 0 {
		c.Probes = 32
	}
	if c.CPURatio == 0 {
		c.CPURatio = scheduler.DefaultCPURatio
	}
	if c.MemoryRatio == 0 {
		c.MemoryRatio = scheduler.DefaultMemoryRatio
	}
}

// Service manages the fleet. The store is the source of truth for hosts
// and claims; the service adds the live connections and their health.
type Service struct {
	cfg     Config
	store   *store.Store
	connect Connect
	clock   clock.Clock
	log     *slog.Logger

	ctx    context.Context // ends when the service closes
	cancel context.CancelFunc
	wg     sync.WaitGroup
	probes chan struct{} // a slot per probe running

	// registerMu makes Register's "is the name or URI free" check and its
	// insert one step within this process.
	registerMu sync.Mutex

	mu     sync.Mutex
	closed bool
	conns  map[string]*conn  // by host id
	ids    map[string]string // host id by name, for Driver
	hooks  []func(hostID string, up bool)
}

// New returns a service that opens drivers with connect. Call Open to
// connect to the registered hosts and start probing them.
func New(cfg Config, st *store.Store, connect Connect, clk clock.Clock, log *slog.Logger) *Service {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Service{
		cfg: cfg, store: st, connect: connect, clock: clk, log: log,
		ctx: ctx, cancel: cancel, probes: make(chan struct{}, cfg.Probes),
		conns: map[string]*conn{}, ids: map[string]string{},
	}
}

// Open connects to every registered host and records what it finds, then
// probes them every HealthInterval. Until its first probe answers, a host
// is of unknown health and takes no instances: what was recorded before
// kumod started no longer vouches for it. Open waits for the first probes
// for up to ProbeTimeout; hooks registered before Open hear each host's
// first health, so a caller learns of every host once at start.
func (s *Service) Open(ctx context.Context) error {
	if err := s.store.ResetHostsHealth(ctx, string(HealthUnknown), s.clock.Now()); err != nil {
		return err
	}
	rows, err := s.store.Hosts(ctx)
	if err != nil {
		return err
	}
	s.mu.Lock()
	for _, r := range rows {
		if c := s.conns[r.ID]; c != nil {
			// Registered before Open: keep its connection, not its health.
			c.health = HealthUnknown
		} else {
			s.conns[r.ID] = newConn(r.Host)
			s.ids[r.Name] = r.ID
		}
	}
	s.mu.Unlock()
	probed := make(chan struct{})
	first := s.round()
	go func() {
		first.Wait()
		close(probed)
	}()
	select {
	case <-probed:
	case <-s.clock.After(s.cfg.ProbeTimeout):
		s.log.Warn("hosts still being probed; they take no instances until they answer")
	case <-ctx.Done():
		return ctx.Err()
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spawnLocked(s.watch)
	return nil
}

// Close stops probing and closes every driver.
func (s *Service) Close() {
	// Under mu, so that no spawnLocked sees the service open after this
	// and adds to the WaitGroup while Wait runs.
	s.mu.Lock()
	s.closed = true
	s.cancel()
	s.mu.Unlock()
	s.wg.Wait()
	s.mu.Lock()
	var drivers []hypervisor.Driver
	for _, c := range s.conns {
		if c.drv != nil {
			drivers = append(drivers, c.drv)
			c.drv = nil
		}
	}
	s.mu.Unlock()
	for _, d := range drivers {
		d.Close()
	}
}

// spawnLocked runs fn on a goroutine that Close waits for, unless the
// service is closing; it reports whether fn will run. Callers hold s.mu.
func (s *Service) spawnLocked(fn func()) bool {
	if s.closed {
		return false
	}
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		fn()
	}()
	return true
}

// Host is a host as callers see it.
type Host struct {
	ID    string
	Name  string
	URI   string
	Zone  string
	Netns string // the data plane's network namespace; "" for none

	State        State
	Health       Health
	HealthReason string // why it is down

	Arch string
	// Reported is what the host last said it has; Reserved is kept back
	// for the host itself.
	Reported    scheduler.Resources
	Reserved    scheduler.Resources
	CPURatio    float64
	MemoryRatio float64
	// Capacity is what instances may claim: (Reported - Reserved) × ratio.
	Capacity scheduler.Resources
	// Used is what the instances holding capacity here claim.
	Used      scheduler.Resources
	Instances int

	CreatedAt time.Time
	UpdatedAt time.Time
}

func view(r store.HostLoad) Host {
	sh := schedulerHost(&r, "")
	return Host{
		ID: r.ID, Name: r.Name, URI: r.URI, Zone: r.Zone, Netns: r.Netns,
		State: State(r.State), Health: Health(r.Health), HealthReason: r.HealthReason,
		Arch: r.Arch, Reported: sh.Capacity, Reserved: sh.Reserved, CPURatio: r.CPURatio, MemoryRatio: r.MemoryRatio,
		Capacity: sh.Effective(), Used: sh.Used, Instances: r.Used.Claims,
		CreatedAt: r.CreatedAt, UpdatedAt: r.UpdatedAt,
	}
}

// List returns every host by name, with its capacity and usage.
func (s *Service) List(ctx context.Context) ([]Host, error) {
	rows, err := s.store.Hosts(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]Host, len(rows))
	for i, r := range rows {
		out[i] = view(r)
	}
	return out, nil
}

// Get returns the host with an id or a name; Register keeps names from
// looking like ids, so the two never clash.
func (s *Service) Get(ctx context.Context, ref string) (Host, error) {
	r, err := s.lookup(ctx, ref)
	if err != nil {
		return Host{}, err
	}
	return view(r), nil
}

func (s *Service) lookup(ctx context.Context, ref string) (store.HostLoad, error) {
	var r store.HostLoad
	var err error
	if ids.Valid(idPrefix, ref) {
		r, err = s.store.Host(ctx, ref)
	} else {
		r, err = s.store.HostByName(ctx, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.HostLoad{}, errs.New(ErrNotFound, "the host '%s' does not exist", ref)
	}
	return r, err
}
