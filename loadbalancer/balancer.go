package loadbalancer

import (
	"errors"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"kumo/internal/clock"
	"kumo/internal/errs"
)

// ErrPortInUse means a listener's port is taken on the bind address.
var ErrPortInUse = errors.New("port in use")

// ErrTargetNotFound means no target has the given id.
var ErrTargetNotFound = errors.New("target not registered")

// Balancer is one running load balancer: its listeners, its targets and
// their health checks.
type Balancer struct {
	clk clock.Clock
	log *slog.Logger
	eng *engine

	mu        sync.Mutex
	cfg       Config
	listeners map[int]*listener // by front port
	targets   map[string]*target
	order     []string // target ids in registration order
	events    []HealthEvent
	changes   int64
	rate      rateMeter
	closed    bool

	// Read on every connection, so kept out of mu.
	rot      atomic.Pointer[rotation]
	run      atomic.Pointer[runtimeConfig]
	rr       atomic.Uint64
	now      atomic.Int64 // unix nanoseconds, refreshed every tick
	total    atomic.Int64
	rejected atomic.Int64

	done chan struct{}
	wg   sync.WaitGroup
}

// runtimeConfig is what the connection path needs from the config.
type runtimeConfig struct {
	algorithm      Algorithm
	connectTimeout time.Duration
	idleTimeout    time.Duration
	proxyProtocol  bool
}

// rotation is the set of targets new connections may go to.
type rotation struct {
	targets []*target
}

// New starts a load balancer: it validates cfg (with defaults filled in),
// binds every listener and begins accepting. It fails without side effects
// if any listener cannot bind.
func New(cfg Config, clk clock.Clock, log *slog.Logger) (*Balancer, error) {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	eng, err := sharedEngine()
	if err != nil {
		return nil, err
	}
	b := &Balancer{
		clk: clk, log: log.With("lb", cfg.ID), eng: eng,
		cfg: cfg, listeners: map[int]*listener{}, targets: map[string]*target{},
		done: make(chan struct{}),
	}
	b.now.Store(clk.Now().UnixNano())
	b.setRuntime(cfg)
	b.rot.Store(&rotation{})
	opened, err := b.openListeners(cfg, cfg.Listeners)
	if err != nil {
		return nil, err
	}
	for _, l := range opened {
		b.listeners[l.front] = l
		eng.addListener(l)
	}
	b.wg.Add(1)
	go b.tickLoop()
	return b, nil
}

func (b *Balancer) setRuntime(cfg Config) {
	b.run.Store(&runtimeConfig{algorithm: cfg.Algorithm, connectTimeout: cfg.ConnectTimeout,
		idleTimeout: cfg.IdleTimeout, proxyProtocol: cfg.ProxyProtocol})
}

// Config returns the configuration in force, defaults filled in.
func (b *Balancer) Config() Config {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.cfg
}

// Reconfigure applies a new configuration. New listeners are bound first,
// so a port conflict changes nothing; removed listeners stop accepting but
// their open connections go on.
func (b *Balancer) Reconfigure(cfg Config) error {
	cfg = cfg.WithDefaults()
	if err := cfg.Validate(); err != nil {
		return err
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return errs.New(errs.InvalidParameter, "load balancer %s is closed", b.cfg.ID)
	}
	rebind := cfg.BindAddr != b.cfg.BindAddr
	var fresh []Listener
	for _, l := range cfg.Listeners {
		if _, ok := b.listeners[l.Port]; rebind || !ok {
			fresh = append(fresh, l)
		}
	}
	if rebind {
		// The old sockets hold the ports: close them before binding anew.
		for port, l := range b.listeners {
			b.eng.removeListener(l)
			delete(b.listeners, port)
		}
	}
	opened, err := b.openListeners(cfg, fresh)
	if err != nil {
		return err
	}
	keep := map[int]bool{}
	for _, l := range cfg.Listeners {
		keep[l.Port] = true
		if old, ok := b.listeners[l.Port]; ok {
			old.targetPort.Store(int32(l.TargetPort))
		}
	}
	for port, l := range b.listeners {
		if !keep[port] {
			b.eng.removeListener(l)
			delete(b.listeners, port)
		}
	}
	for _, l := range opened {
		b.listeners[l.front] = l
		b.eng.addListener(l)
	}
	b.cfg = cfg
	b.setRuntime(cfg)
	return nil
}

// Register adds a target, or updates one with the same id. A new target
// starts in the initial state and is checked at once.
func (b *Balancer) Register(t Target) error {
	if !t.Addr.IsValid() {
		return errs.New(errs.InvalidParameter, "target %s has no valid address", t.ID)
	}
	// Guest and other private addresses are reached only from inside the
	// data plane's namespace: from kumod's own, only loopback.
	if t.Netns == "" && !t.Addr.Unmap().IsLoopback() {
		return errs.New(errs.InvalidParameter, "target %s at %s needs the network namespace it is reached from", t.ID, t.Addr)
	}
	if t.Port != 0 {
		if err := checkPort("target port", t.Port); err != nil {
			return err
		}
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if old, ok := b.targets[t.ID]; ok && old.health.state != Draining {
		if old.Addr == t.Addr && old.Port == t.Port {
			b.setUnusedLocked(old, t.Unused)
			return nil
		}
		b.removeLocked(old)
	} else if ok {
		b.removeLocked(old)
	}
	nt := &target{Target: t, stopped: make(chan struct{}), wake: make(chan struct{}, 1)}
	nt.health = healthState{state: Initial}
	nt.reason = ReasonInitialChecking
	if t.Unused != "" {
		nt.health = healthState{state: Unused}
		nt.reason, nt.detail = ReasonInvalidState, t.Unused
	}
	b.targets[t.ID] = nt
	b.order = append(b.order, t.ID)
	b.rebuildLocked()
	b.wg.Add(1)
	go b.checkLoop(nt)
	return nil
}

// SetUnused takes a target out of rotation (why says why, as "Target is in
// the stopped state") or, with an empty why, puts it back to be checked
// from the initial state.
func (b *Balancer) SetUnused(id, why string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.targets[id]
	if !ok {
		return ErrTargetNotFound
	}
	b.setUnusedLocked(t, why)
	return nil
}

func (b *Balancer) setUnusedLocked(t *target, why string) {
	switch {
	case t.health.state == Draining:
	case why != "":
		b.transitionLocked(t, healthState{state: Unused}, ReasonInvalidState, why)
	case t.health.state == Unused:
		b.transitionLocked(t, healthState{state: Initial}, ReasonInitialChecking, "")
		b.wakeChecks(t)
	}
}

// Deregister takes a target out of rotation at once. Its open connections
// may finish within the deregistration delay; then they are closed and the
// target is gone.
func (b *Balancer) Deregister(id string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	t, ok := b.targets[id]
	if !ok {
		return ErrTargetNotFound
	}
	if t.health.state == Draining {
		return nil
	}
	if t.active.Load() == 0 || b.cfg.DeregistrationDelay == 0 {
		b.removeLocked(t)
		return nil
	}
	b.transitionLocked(t, healthState{state: Draining}, ReasonDeregistering, "")
	t.drainUntil = b.clk.Now().Add(b.cfg.DeregistrationDelay)
	t.draining.Store(true)
	return nil
}

// removeLocked forgets a target and closes whatever it still carries.
func (b *Balancer) removeLocked(t *target) {
	if b.targets[t.ID] != t {
		return
	}
	delete(b.targets, t.ID)
	b.order = slices.DeleteFunc(b.order, func(id string) bool { return id == t.ID })
	close(t.stopped)
	b.eng.abort(func(c *conn) bool { return c.target == t }, false)
	b.rebuildLocked()
}

// transitionLocked moves a target to a new health state, records the change
// and rebuilds the rotation.
func (b *Balancer) transitionLocked(t *target, to healthState, reason, detail string) {
	from := t.health.state
	t.health, t.reason, t.detail = to, reason, detail
	if from == to.state {
		return
	}
	t.healthChanges.Add(1)
	b.changes++
	b.events = append(b.events, HealthEvent{At: b.clk.Now(), Target: t.ID, From: from, To: to.state, Reason: reason})
	if len(b.events) > maxEvents {
		b.events = slices.Delete(b.events, 0, len(b.events)-maxEvents)
	}
	b.log.Info("target health", "target", t.ID, "from", from, "to", to.state, "reason", reason, "detail", detail)
	b.rebuildLocked()
}

// rebuildLocked publishes the targets new connections may use: the healthy
// ones or, when none is healthy, every checked one (failing open, as AWS
// Network Load Balancers do, rather than refusing all traffic).
func (b *Balancer) rebuildLocked() {
	var healthy, checked []*target
	for _, id := range b.order {
		t := b.targets[id]
		switch t.health.state {
		case Healthy:
			healthy = append(healthy, t)
		case Initial, Unhealthy:
			checked = append(checked, t)
		}
	}
	if len(healthy) == 0 {
		healthy = checked
	}
	b.rot.Store(&rotation{targets: healthy})
}

// Stats returns the load balancer's metrics and its targets' health.
func (b *Balancer) Stats() Stats {
	b.mu.Lock()
	defer b.mu.Unlock()
	s := Stats{
		NewConnections:       b.total.Load(),
		RejectedConnections:  b.rejected.Load(),
		HealthChanges:        b.changes,
		Events:               slices.Clone(b.events),
		NewConnectionsPerSec: b.rate.perSecond(b.total.Load()),
	}
	port := b.trafficPortLocked()
	for _, id := range b.order {
		t := b.targets[id]
		ts := TargetStats{
			ID: t.ID, Addr: t.addrFor(port).String(), State: t.health.state, Reason: t.reason, Description: t.detail,
			ActiveConnections: t.active.Load(), NewConnections: t.total.Load(), ConnectErrors: t.connectErrors.Load(),
			BytesIn: t.bytesIn.Load(), BytesOut: t.bytesOut.Load(), HealthChanges: t.healthChanges.Load(),
		}
		ts.NewConnectionsPerSec = t.rate.perSecond(ts.NewConnections)
		s.ActiveConnections += ts.ActiveConnections
		s.BytesIn += ts.BytesIn
		s.BytesOut += ts.BytesOut
		switch ts.State {
		case Healthy:
			s.HealthyTargets++
		case Unhealthy:
			s.UnhealthyTargets++
		}
		s.Targets = append(s.Targets, ts)
	}
	return s
}

// trafficPortLocked is the port health checks probe by default: the first
// listener's target port.
func (b *Balancer) trafficPortLocked() int {
	if len(b.cfg.Listeners) == 0 {
		return 0
	}
	return b.cfg.Listeners[0].TargetPort
}

// Close stops the listeners and health checks and closes every connection.
func (b *Balancer) Close() {
	b.mu.Lock()
	if b.closed {
		b.mu.Unlock()
		return
	}
	b.closed = true
	for _, l := range b.listeners {
		b.eng.removeListener(l)
	}
	for _, id := range slices.Clone(b.order) {
		b.removeLocked(b.targets[id])
	}
	b.eng.abort(func(c *conn) bool { return c.b == b }, true)
	close(b.done)
	b.mu.Unlock()
	b.wg.Wait()
}

// tickLoop keeps the coarse clock, the rates and draining deadlines, once
// a second.
func (b *Balancer) tickLoop() {
	defer b.wg.Done()
	for {
		select {
		case <-b.done:
			return
		case now := <-b.clk.After(time.Second):
			b.now.Store(now.UnixNano())
			b.tick(now)
		}
	}
}

func (b *Balancer) tick(now time.Time) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.rate.add(b.total.Load())
	for _, id := range slices.Clone(b.order) {
		t := b.targets[id]
		t.rate.add(t.total.Load())
		if t.health.state == Draining && (t.active.Load() == 0 || !now.Before(t.drainUntil)) {
			b.removeLocked(t)
		}
	}
}

// coarseNow is the clock connections stamp their activity with: cheap to
// read, and moved by the injected clock in tests.
func (b *Balancer) coarseNow() int64 { return b.now.Load() }

// drained removes a draining target whose last connection has ended.
func (b *Balancer) drained(t *target) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if t.health.state == Draining && t.active.Load() == 0 {
		b.removeLocked(t)
	}
}
