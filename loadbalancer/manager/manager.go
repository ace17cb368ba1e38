// Package manager owns kumo's set of load balancers: their configuration
// as persisted in the store, the running balancers of the data path
// (package loadbalancer) that serve them, and which instances they send
// traffic to, kept in step with those instances' states.
//
// The store is the source of truth: every change is recorded first, then
// applied to the running balancer, and at start every stored load balancer
// is brought back with its listeners and targets.
//
// It must not know HTTP or libvirt: the API calls it, it reads instances
// through the small Instances interface, and it reaches instance addresses
// only through sockets opened in the data plane's network namespace.
package manager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"syscall"
	"time"

	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/loadbalancer"
	"kumo/store"
)

// Error kinds of this package, mapped to codes by the API.
var (
	ErrNotFound            = errors.New("load balancer not found")
	ErrDuplicateName       = errors.New("duplicate load balancer name")
	ErrDuplicateListener   = errors.New("listener port used by another load balancer")
	ErrInvalidTarget       = errors.New("invalid target")
	ErrTargetNotRegistered = errors.New("target not registered")
)

// Instances is what the manager needs of the instance service.
type Instances interface {
	Get(ctx context.Context, id string) (instances.Instance, error)
	OnStateChange(fn func(id string, state instances.State))
}

// Config tunes the manager; zero fields take the defaults below.
type Config struct {
	// BindAddr is the address new load balancers bind when they name none.
	BindAddr string
	// Namespace is the network namespace of the local host's data plane,
	// where instance addresses are reachable: connections to any target
	// but a loopback address are made from inside it. Empty means there is
	// none, and only loopback targets can be reached.
	Namespace string
	// RetryInterval is how often a load balancer whose listeners could not
	// bind tries again.
	RetryInterval time.Duration
}

func (c *Config) setDefaults() {
	if c.BindAddr == "" {
		c.BindAddr = loadbalancer.DefaultBindAddr
	}
	if c.RetryInterval == 0 {
		c.RetryInterval = 30 * time.Second
	}
}

// Manager runs the load balancers of one host.
type Manager struct {
	cfg   Config
	store *store.Store
	inst  Instances
	clk   clock.Clock
	log   *slog.Logger

	ctx    context.Context // ends when the manager closes
	cancel context.CancelFunc
	wg     sync.WaitGroup

	// mu orders every change, so that registering an instance and hearing
	// of its state changes apply in the order they happen.
	mu      sync.Mutex
	running map[string]*loadbalancer.Balancer
	failed  map[string]string // why each load balancer that could not start failed
	closed  bool
}

// New returns a manager. Call Open to bring back the stored load balancers.
func New(st *store.Store, inst Instances, cfg Config, clk clock.Clock, log *slog.Logger) *Manager {
	cfg.setDefaults()
	ctx, cancel := context.WithCancel(context.Background())
	return &Manager{
		cfg: cfg, store: st, inst: inst, clk: clk, log: log,
		ctx: ctx, cancel: cancel,
		running: map[string]*loadbalancer.Balancer{}, failed: map[string]string{},
	}
}

// Open follows instance state changes, starts every stored load balancer
// with its targets, and retries those whose listeners cannot bind.
func (m *Manager) Open(ctx context.Context) error {
	// Subscribe before looking, so that no change goes unseen in between.
	m.inst.OnStateChange(m.instanceChanged)
	m.mu.Lock()
	list, err := m.store.LoadBalancers(ctx)
	if err != nil {
		m.mu.Unlock()
		return fmt.Errorf("restore load balancers: %w", err)
	}
	for _, r := range list {
		if err := m.startLocked(ctx, r); err != nil {
			m.failedLocked(r, err)
		}
	}
	m.mu.Unlock()
	m.wg.Add(1)
	go m.retryLoop()
	return nil
}

// Close stops every running balancer and background work. The stored load
// balancers stay, to be brought back by the next Open.
func (m *Manager) Close() {
	m.mu.Lock()
	m.closed = true
	m.cancel()
	running := m.running
	m.running = map[string]*loadbalancer.Balancer{}
	m.mu.Unlock()
	m.wg.Wait()
	// Each Close waits for health checks in flight; in parallel, shutdown
	// takes the longest of them rather than their sum.
	var wg sync.WaitGroup
	for _, b := range running {
		wg.Add(1)
		go func() {
			defer wg.Done()
			b.Close()
		}()
	}
	wg.Wait()
}

// startLocked runs a stored load balancer with its stored targets.
func (m *Manager) startLocked(ctx context.Context, r store.LoadBalancer) error {
	if m.closed {
		return errors.New("the load balancer manager is closed")
	}
	b, err := loadbalancer.New(configOf(r), m.clk, m.log)
	if err != nil {
		return bindError(err, r.BindAddr)
	}
	m.running[r.ID] = b
	delete(m.failed, r.ID)
	targets, err := m.store.Targets(ctx, r.ID)
	if err != nil {
		m.log.Error("restore targets", "lb", r.ID, "err", err)
		return nil
	}
	for _, t := range targets {
		m.restoreTargetLocked(ctx, b, t)
	}
	return nil
}

// failedLocked records why a load balancer could not start; the retry loop
// tries it again.
func (m *Manager) failedLocked(r store.LoadBalancer, err error) {
	m.failed[r.ID] = errs.Message(err)
	m.log.Error("load balancer cannot start; retrying", "lb", r.ID, "name", r.Name, "every", m.cfg.RetryInterval, "err", err)
}

// bindError explains why listeners could not bind, in the caller's terms.
func bindError(err error, bindAddr string) error {
	switch {
	case errors.Is(err, loadbalancer.ErrPortInUse):
		return errs.New(loadbalancer.ErrPortInUse, "%s by a program other than kumo's load balancers", errs.Message(err))
	case errors.Is(err, syscall.EADDRNOTAVAIL):
		return errs.New(errs.InvalidParameter, "bind address %s is not an address of this host", bindAddr)
	}
	return err
}

func (m *Manager) retryLoop() {
	defer m.wg.Done()
	for {
		select {
		case <-m.ctx.Done():
			return
		case <-m.clk.After(m.cfg.RetryInterval):
		}
		m.retryFailed()
	}
}

func (m *Manager) retryFailed() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for id := range m.failed {
		r, err := m.store.LoadBalancer(m.ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			delete(m.failed, id)
			continue
		}
		if err != nil {
			m.log.Error("retry load balancer", "lb", id, "err", err)
			continue
		}
		if err := m.startLocked(m.ctx, r); err != nil {
			m.failed[id] = errs.Message(err)
			continue
		}
		m.log.Info("load balancer started after retry", "lb", id, "name", r.Name)
	}
}
