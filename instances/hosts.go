package instances

import (
	"context"
	"errors"
	"fmt"

	"kumo/hypervisor"
	"kumo/store"
)

// Hosts gives the service the hypervisors of the hosts besides its own
// (Config.Host, whose driver New takes).
type Hosts interface {
	// Driver is the named host's hypervisor. It fails while the host is
	// down, and for a host that does not exist.
	Driver(host string) (hypervisor.Driver, error)
}

// ErrHostDown means an instance's host cannot be reached: what it does
// there is unknown until the host returns, and the instance keeps its
// recorded state meanwhile.
var ErrHostDown = errors.New("the instance's host cannot be reached")

// driverOf is the hypervisor of host.
func (s *Service) driverOf(host string) (hypervisor.Driver, error) {
	if host == s.cfg.Host {
		return s.driver, nil
	}
	if s.cfg.Hosts == nil {
		return nil, fmt.Errorf("host %s: %w: this service runs instances on %s only", host, ErrHostDown, s.cfg.Host)
	}
	drv, err := s.cfg.Hosts.Driver(host)
	if err != nil {
		return nil, fmt.Errorf("host %s: %w: %w", host, ErrHostDown, err)
	}
	return drv, nil
}

// HostUp starts following a host besides the service's own: its domains
// are compared with the instances recorded on it, then its lifecycle
// events are followed until HostDown. Call it whenever the host is seen
// up, at start and when it returns.
func (s *Service) HostUp(host string) {
	if host == s.cfg.Host {
		return // followed from Open
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.following[host]; ok {
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	if !s.spawnLocked(func() { s.follow(ctx, host) }) {
		cancel()
		return
	}
	s.following[host] = cancel
}

// HostDown stops following a host that cannot be reached. Its instances
// keep their recorded states until HostUp reconciles them.
func (s *Service) HostDown(host string) {
	s.mu.Lock()
	cancel := s.following[host]
	delete(s.following, host)
	s.mu.Unlock()
	if cancel != nil {
		cancel()
		s.log.Warn("host down: its instances are unreachable until it returns", "host", host)
	}
}

// HostReachable reports whether the instances of host can be acted on.
func (s *Service) HostReachable(host string) bool {
	if host == s.cfg.Host {
		return true
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := s.following[host]
	return ok
}

// follow reconciles one host and then follows its events until ctx ends.
func (s *Service) follow(ctx context.Context, host string) {
	drv, err := s.driverOf(host)
	var events <-chan hypervisor.Event
	if err == nil {
		// Subscribe before looking, so that nothing changes unseen in
		// between.
		events, err = drv.Events(ctx)
	}
	if err == nil {
		err = s.watchHost(ctx, host, drv)
	}
	if err != nil {
		s.log.Error("follow host", "host", host, "err", err)
		s.mu.Lock()
		delete(s.following, host)
		s.mu.Unlock()
		return
	}
	s.log.Info("following host", "host", host)
	s.followEvents(host, events)
}

// watchHost removes the host's orphan domains and converges every live
// instance recorded on it.
func (s *Service) watchHost(ctx context.Context, host string, drv hypervisor.Driver) error {
	live, err := s.store.Instances(ctx, store.InstanceFilter{States: liveStates(), Host: host})
	if err != nil {
		return err
	}
	owned := make(map[string]bool, len(live))
	for _, in := range live {
		owned[in.ID] = true
	}
	if err := s.removeOrphanDomains(ctx, drv, owned); err != nil {
		return err
	}
	for _, in := range live {
		s.kick(in.ID)
	}
	return nil
}
