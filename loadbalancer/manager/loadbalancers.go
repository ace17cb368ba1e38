package manager

import (
	"context"
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"time"

	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/loadbalancer"
	"kumo/store"
)

// State is whether a load balancer serves.
type State string

const (
	Active State = "active" // its listeners accept connections
	Failed State = "failed" // its listeners could not bind; retried periodically
)

// Unavailable is the health shown for the targets of a load balancer that
// is not running: nothing checks them.
const Unavailable loadbalancer.Health = "unavailable"

// LoadBalancer is a load balancer as callers see it: its configuration
// with defaults filled in, whose it is, whether it serves, and its metrics.
type LoadBalancer struct {
	loadbalancer.Config
	Owner       string // the account it belongs to; empty for none
	CreatedAt   time.Time
	State       State
	StateReason string
	Stats       loadbalancer.Stats
}

// Create records a load balancer owned by the account and starts it.
// cfg.ID is chosen here; an empty BindAddr takes the manager's default.
func (v Scoped) Create(ctx context.Context, cfg loadbalancer.Config) (LoadBalancer, error) {
	m := v.m
	cfg.ID = ids.New("lb")
	cfg, err := m.checked(cfg)
	if err != nil {
		return LoadBalancer{}, err
	}
	r := rowOf(cfg, v.owner, m.clk.Now())
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.store.CreateLoadBalancer(ctx, r); err != nil {
		return LoadBalancer{}, v.storeError(err, cfg.Name)
	}
	if err := m.startLocked(ctx, r); err != nil {
		// Nothing was bound; take back the record so the name and ports
		// stay free. The request may be gone, the undo must still happen.
		if derr := m.store.DeleteLoadBalancer(context.WithoutCancel(ctx), r.ID); derr != nil {
			m.log.Error("undo create load balancer", "lb", r.ID, "err", derr)
		}
		return LoadBalancer{}, err
	}
	m.log.Info("load balancer created", "lb", r.ID, "name", r.Name, "bind", r.BindAddr, "listeners", cfg.Listeners)
	return m.viewLocked(ctx, r)
}

// checked fills defaults into cfg, puts its bind address in the form the
// data path binds (so that the store compares addresses alike) and
// validates it.
func (m *Manager) checked(cfg loadbalancer.Config) (loadbalancer.Config, error) {
	if cfg.BindAddr == "" {
		cfg.BindAddr = m.cfg.BindAddr
	}
	cfg = cfg.WithDefaults()
	if a, err := netip.ParseAddr(cfg.BindAddr); err == nil {
		if a.Zone() != "" {
			return cfg, errs.New(errs.InvalidParameter, "bind address %s must not name a zone", cfg.BindAddr)
		}
		cfg.BindAddr = a.Unmap().String()
	}
	if err := validName(cfg.Name); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// validName applies AWS's rule for load balancer names. A name shaped like
// an id is refused, since either may name a load balancer.
func validName(name string) error {
	if name == "" {
		return errs.New(errs.MissingParameter, "a load balancer needs a name")
	}
	ok := len(name) <= 32 && name[0] != '-' && name[len(name)-1] != '-' && !ids.Valid("lb", name)
	for _, c := range name {
		ok = ok && ('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-')
	}
	if !ok {
		return errs.New(errs.InvalidParameter,
			"load balancer name %q must be 1 to 32 letters, digits and hyphens, not start or end with a hyphen, and not look like an id", name)
	}
	return nil
}

// storeError turns the store's refusals into this package's error kinds.
// A port is refused whoever holds it, but only a load balancer the account
// sees is named.
func (v Scoped) storeError(err error, name string) error {
	var lce *store.ListenerConflictError
	switch {
	case errors.As(err, &lce):
		if !v.sees(lce.Owner) {
			return errs.New(ErrDuplicateListener, "listener port %d is already used by another account's load balancer", lce.Port)
		}
		return errs.New(ErrDuplicateListener, "listener port %d is already used by load balancer '%s' (%s) bound to %s",
			lce.Port, lce.Name, lce.ID, lce.BindAddr)
	case errors.Is(err, store.ErrDuplicate):
		return errs.New(ErrDuplicateName, "a load balancer named '%s' already exists", name)
	}
	return err
}

// Get returns the account's load balancer with id or name ref.
func (v Scoped) Get(ctx context.Context, ref string) (LoadBalancer, error) {
	m := v.m
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := v.resolve(ctx, ref)
	if err != nil {
		return LoadBalancer{}, err
	}
	return m.viewLocked(ctx, r)
}

// List returns the account's load balancers, oldest first.
func (v Scoped) List(ctx context.Context) ([]LoadBalancer, error) {
	m := v.m
	m.mu.Lock()
	defer m.mu.Unlock()
	var rows []store.LoadBalancer
	var err error
	if v.owner == "" {
		rows, err = m.store.LoadBalancers(ctx)
	} else {
		rows, err = m.store.LoadBalancersOf(ctx, v.owner)
	}
	if err != nil {
		return nil, err
	}
	out := make([]LoadBalancer, len(rows))
	for i, r := range rows {
		if out[i], err = m.viewLocked(ctx, r); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Update changes the settings of one of the account's load balancers:
// change edits a copy of the current configuration (its id, name and owner
// stay), the result is recorded and applied to the running balancer. A
// running load balancer refuses a change its listeners cannot bind; a
// failed one records it and tries to start with it at once.
func (v Scoped) Update(ctx context.Context, ref string, change func(*loadbalancer.Config) error) (LoadBalancer, error) {
	m := v.m
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := v.resolve(ctx, ref)
	if err != nil {
		return LoadBalancer{}, err
	}
	old := configOf(r)
	cfg := old
	cfg.Listeners = slices.Clone(old.Listeners)
	if err := change(&cfg); err != nil {
		return LoadBalancer{}, err
	}
	cfg.ID, cfg.Name = old.ID, old.Name
	if cfg, err = m.checked(cfg); err != nil {
		return LoadBalancer{}, err
	}
	next := rowOf(cfg, r.Owner, r.CreatedAt)
	if err := m.store.UpdateLoadBalancer(ctx, next); err != nil {
		return LoadBalancer{}, v.storeError(err, cfg.Name)
	}
	b := m.running[r.ID]
	if b == nil {
		if err := m.startLocked(ctx, next); err != nil {
			m.failedLocked(next, err)
		}
		return m.viewLocked(ctx, next)
	}
	if err := b.Reconfigure(cfg); err != nil {
		undo := context.WithoutCancel(ctx)
		if uerr := m.store.UpdateLoadBalancer(undo, r); uerr != nil {
			m.log.Error("undo update load balancer", "lb", r.ID, "err", uerr)
		}
		// A new bind address closes the old listeners before binding, so
		// a failure there leaves none: bind the old ones again.
		if uerr := b.Reconfigure(old); uerr != nil {
			m.log.Error("restore listeners", "lb", r.ID, "err", uerr)
		}
		return LoadBalancer{}, bindError(err, cfg.BindAddr)
	}
	m.log.Info("load balancer updated", "lb", r.ID, "name", r.Name)
	return m.viewLocked(ctx, next)
}

// Delete removes one of the account's load balancers. Its record goes
// first, so that a crash before its balancer stops cannot bring it back at
// the next start.
func (v Scoped) Delete(ctx context.Context, ref string) error {
	m := v.m
	m.mu.Lock()
	r, err := v.resolve(ctx, ref)
	if err == nil {
		err = m.store.DeleteLoadBalancer(ctx, r.ID)
	}
	if err != nil {
		m.mu.Unlock()
		return err
	}
	b := m.running[r.ID]
	delete(m.running, r.ID)
	delete(m.failed, r.ID)
	m.mu.Unlock()
	// Close waits for health checks in flight: outside the lock, so other
	// load balancers need not wait too.
	if b != nil {
		b.Close()
	}
	m.log.Info("load balancer deleted", "lb", r.ID, "name", r.Name)
	return nil
}

// resolve reads the load balancer the account names by id or name. One it
// does not see is not found, with the very error of one that does not
// exist.
func (v Scoped) resolve(ctx context.Context, ref string) (store.LoadBalancer, error) {
	var r store.LoadBalancer
	var err error
	if ids.Valid("lb", ref) {
		r, err = v.m.store.LoadBalancer(ctx, ref)
		if err == nil && !v.sees(r.Owner) {
			err = store.ErrNotFound
		}
	} else {
		r, err = v.m.store.LoadBalancerByName(ctx, v.owner, ref)
	}
	if errors.Is(err, store.ErrNotFound) {
		return store.LoadBalancer{}, errs.New(ErrNotFound, "load balancer '%s' not found", ref)
	}
	return r, err
}

// viewLocked describes a stored load balancer with its live state.
func (m *Manager) viewLocked(ctx context.Context, r store.LoadBalancer) (LoadBalancer, error) {
	v := LoadBalancer{Config: configOf(r), Owner: r.Owner, CreatedAt: r.CreatedAt, State: Active}
	if b := m.running[r.ID]; b != nil {
		v.Stats = b.Stats()
		return v, nil
	}
	v.State, v.StateReason = Failed, m.failed[r.ID]
	targets, err := m.store.Targets(ctx, r.ID)
	if err != nil {
		return v, err
	}
	for _, t := range targets {
		port := t.Port
		if port == 0 && len(r.Listeners) > 0 {
			port = r.Listeners[0].TargetPort
		}
		v.Stats.Targets = append(v.Stats.Targets, loadbalancer.TargetStats{
			ID: t.ID, Addr: net.JoinHostPort(t.Addr, strconv.Itoa(port)), State: Unavailable,
			Description: "The load balancer is not running",
		})
	}
	return v, nil
}
