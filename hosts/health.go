package hosts

import (
	"context"
	"errors"
	"slices"
	"sync"

	"kumo/hypervisor"
	"kumo/internal/errs"
	"kumo/store"
)

// conn is the service's live side of one host. Fields other than the ones
// set at creation are guarded by Service.mu.
type conn struct {
	id, name, uri string

	drv     hypervisor.Driver // nil until connected, and while down
	probing bool

	// What the store holds, so that only changes are written.
	health Health
	reason string
	report store.HostReport
}

func newConn(h store.Host) *conn {
	return &conn{id: h.ID, name: h.Name, uri: h.URI, health: Health(h.Health), reason: h.HealthReason, report: h.HostReport}
}

func reportOf(info hypervisor.HostInfo) store.HostReport {
	return store.HostReport{CPUs: info.CPUs, MemoryMiB: int64(info.MemoryMiB), Arch: info.Arch}
}

// Driver returns the connection to a host that is up, named by id or
// name. Ask again rather than keeping it: a host that goes down has its
// driver closed, and one that comes back gets a new one.
func (s *Service) Driver(ref string) (hypervisor.Driver, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.connLocked(ref)
	if err != nil {
		return nil, err
	}
	if c.drv == nil || c.health != HealthUp {
		return nil, errs.New(ErrUnreachable, "host '%s' is %s", c.name, c.health)
	}
	return c.drv, nil
}

// Names returns the id and the name of a host named by either, from what
// the service holds: no store read, for callers on a launch's path.
func (s *Service) Names(ref string) (id, name string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c, err := s.connLocked(ref)
	if err != nil {
		return "", "", err
	}
	return c.id, c.name, nil
}

func (s *Service) connLocked(ref string) (*conn, error) {
	c, ok := s.conns[ref]
	if !ok {
		c, ok = s.conns[s.ids[ref]]
	}
	if !ok {
		return nil, errs.New(ErrNotFound, "the host '%s' does not exist", ref)
	}
	return c, nil
}

// UpHost is a host that is up, with its connection.
type UpHost struct {
	Name   string
	Driver hypervisor.Driver
}

// Up returns the hosts that are up now, in no order.
func (s *Service) Up() []UpHost {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []UpHost
	for _, c := range s.conns {
		if c.drv != nil && c.health == HealthUp {
			out = append(out, UpHost{Name: c.name, Driver: c.drv})
		}
	}
	return out
}

// OnHealthChange registers fn to hear of every change of a host's health:
// down, or up again, each host's first probe after Open, and a new host's
// registration. It is called
// on a probe's goroutine after the store records the change, and holds up
// that host's probes while it runs: long work belongs on a goroutine of
// its own. When up is false the host's instances cannot be reached; when
// true, the caller should reconcile them with what the host reports.
func (s *Service) OnHealthChange(fn func(hostID string, up bool)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.hooks = append(s.hooks, fn)
}

// CheckHealth probes every host not already being probed, as the health
// loop does each interval, and waits for those probes.
func (s *Service) CheckHealth() { s.round().Wait() }

// watch probes the fleet every HealthInterval until the service closes.
// It does not wait for a round's probes: a host whose probe hangs must
// not hold up the others, and later rounds skip it until it returns.
func (s *Service) watch() {
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.clock.After(s.cfg.HealthInterval):
		}
		s.round()
	}
}

func (s *Service) round() *sync.WaitGroup {
	var wg sync.WaitGroup
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.conns {
		if c.probing {
			continue
		}
		wg.Add(1)
		started := s.spawnLocked(func() {
			defer wg.Done()
			select {
			case s.probes <- struct{}{}:
			case <-s.ctx.Done():
				return
			}
			s.probe(c)
			<-s.probes
			s.mu.Lock()
			c.probing = false
			s.mu.Unlock()
		})
		if !started {
			wg.Done()
			break
		}
		c.probing = true
	}
	return &wg
}

// probe asks the host for its resources, connecting first if it has no
// connection, and records the outcome.
func (s *Service) probe(c *conn) {
	s.mu.Lock()
	drv := c.drv
	s.mu.Unlock()
	if drv == nil {
		d, err := s.connect(c.uri)
		if err != nil {
			s.record(c, hypervisor.HostInfo{}, err)
			return
		}
		s.mu.Lock()
		if s.conns[c.id] != c || s.closed {
			s.mu.Unlock()
			d.Close()
			return
		}
		c.drv, drv = d, d
		s.mu.Unlock()
	}
	ctx, cancel := context.WithTimeout(s.ctx, s.cfg.ProbeTimeout)
	info, err := drv.Host(ctx)
	cancel()
	if s.ctx.Err() != nil {
		return // closing: the failure is ours, not the host's
	}
	if err != nil {
		// The next round connects afresh rather than trusting a
		// connection that failed.
		s.mu.Lock()
		if c.drv == drv {
			c.drv = nil
		}
		s.mu.Unlock()
		drv.Close()
	}
	s.record(c, info, err)
}

// record writes a probe's outcome to the store when it differs from what
// the store holds, and tells the hooks when the health changed. A down
// host keeps the capacity it last reported.
func (s *Service) record(c *conn, info hypervisor.HostInfo, probeErr error) {
	health, reason := HealthUp, ""
	s.mu.Lock()
	report, was := c.report, c.health
	if probeErr != nil {
		health, reason = HealthDown, probeErr.Error()
	} else {
		report = reportOf(info)
	}
	same := c.health == health && c.reason == reason && c.report == report
	s.mu.Unlock()
	if same {
		return
	}
	if err := s.store.SetHostHealth(s.ctx, c.id, string(health), reason, report, s.clock.Now()); err != nil {
		// A removed host needs no record; otherwise the next round tries again.
		if !errors.Is(err, store.ErrNotFound) && s.ctx.Err() == nil {
			s.log.Warn("record host health", "host", c.id, "name", c.name, "err", err)
		}
		return
	}
	s.mu.Lock()
	c.health, c.reason, c.report = health, reason, report
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	if was == health {
		return
	}
	if health == HealthUp {
		s.log.Info("host up", "host", c.id, "name", c.name, "cpus", report.CPUs, "memory_mib", report.MemoryMiB)
	} else {
		s.log.Warn("host down", "host", c.id, "name", c.name, "err", reason)
	}
	for _, fn := range hooks {
		fn(c.id, health == HealthUp)
	}
}

// dial connects to uri and asks the host for its resources.
func (s *Service) dial(ctx context.Context, uri string) (hypervisor.Driver, hypervisor.HostInfo, error) {
	drv, err := s.connect(uri)
	if err != nil {
		return nil, hypervisor.HostInfo{}, err
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.ProbeTimeout)
	defer cancel()
	info, err := drv.Host(ctx)
	if err != nil {
		drv.Close()
		return nil, hypervisor.HostInfo{}, err
	}
	return drv, info, nil
}
