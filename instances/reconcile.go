package instances

import (
	"context"
	"fmt"
	"strings"

	"kumo/hypervisor"
	"kumo/internal/ids"
	"kumo/store"
)

// Open reconciles the store with the hypervisor, then keeps them in step:
// it follows lifecycle events and compares everything periodically, since
// events can be missed.
func (s *Service) Open(ctx context.Context) error {
	owner, err := s.store.ControlPlaneID(ctx)
	if err != nil {
		return err
	}
	s.owner = owner
	if err := s.removeOrphans(ctx); err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	if err := s.syncCapacity(ctx); err != nil {
		return fmt.Errorf("reconcile capacity: %w", err)
	}
	// Subscribe before looking, so that nothing changes unseen in between.
	events, err := s.driver.Events(s.ctx)
	if err != nil {
		return fmt.Errorf("subscribe to lifecycle events: %w", err)
	}
	live, err := s.store.Instances(ctx, store.InstanceFilter{States: liveStates()})
	if err != nil {
		return fmt.Errorf("reconcile: %w", err)
	}
	for _, in := range live {
		s.kick(in.ID)
	}
	s.wg.Add(2)
	go func() {
		defer s.wg.Done()
		s.followEvents(s.cfg.Host, events)
	}()
	go s.resyncLoop()
	return nil
}

// removeOrphans destroys domains and deletes disks that no live instance
// owns: leftovers of a crash between making them and recording them, or
// between terminating an instance and cleaning up.
func (s *Service) removeOrphans(ctx context.Context) error {
	all, err := s.store.Instances(ctx, store.InstanceFilter{})
	if err != nil {
		return err
	}
	owned := map[string]bool{}
	for _, in := range all {
		if State(in.State) != Terminated {
			owned[in.ID] = true
		}
	}
	if err := s.removeOrphanDomains(ctx, s.driver, owned); err != nil {
		return err
	}
	s.removeStaleTemplates(ctx)
	dirs, err := s.disks.leftovers()
	if err != nil {
		return err
	}
	for _, id := range dirs {
		if !owned[id] {
			s.log.Warn("removing orphan disks", "instance", id)
			if err := s.disks.remove(id); err != nil {
				s.log.Error("remove orphan disks", "instance", id, "err", err)
			}
		}
	}
	return nil
}

// removeOrphanDomains destroys the host's domains of this control plane
// that no instance in owned has.
func (s *Service) removeOrphanDomains(ctx context.Context, drv hypervisor.Driver, owned map[string]bool) error {
	domains, err := drv.List(ctx)
	if err != nil {
		return err
	}
	for _, d := range domains {
		// Templates are only built while kumod runs: any found now is left
		// over from a crash.
		template := strings.HasPrefix(d.Name, templatePrefix)
		if d.Metadata != s.domainMetadata() || owned[d.Name] || !(ids.Valid("i", d.Name) || template) {
			continue
		}
		s.log.Warn("removing orphan domain", "domain", d.Name)
		if err := drv.Destroy(ctx, d.Name); err != nil {
			s.log.Error("destroy orphan domain", "domain", d.Name, "err", err)
		}
		if err := drv.Undefine(ctx, d.Name); err != nil {
			s.log.Error("undefine orphan domain", "domain", d.Name, "err", err)
		}
	}
	return nil
}

// followEvents converges the instances a host's lifecycle events are
// about, until the events end.
func (s *Service) followEvents(host string, events <-chan hypervisor.Event) {
	for ev := range events {
		if !ids.Valid("i", ev.Name) {
			continue
		}
		s.kick(ev.Name)
		if ev.Kind == hypervisor.EventRebooted {
			s.mu.Lock()
			s.rebootedAt[ev.Name] = s.clock.Now()
			s.mu.Unlock()
			s.watchReboot(host, ev.Name)
		}
	}
}

func (s *Service) resyncLoop() {
	defer s.wg.Done()
	for {
		select {
		case <-s.ctx.Done():
			return
		case <-s.clock.After(s.cfg.ResyncInterval):
		}
		s.Resync(s.ctx)
	}
}

// Resync compares every live instance with its domain and purges
// terminated instances past their retention.
func (s *Service) Resync(ctx context.Context) {
	live, err := s.store.Instances(ctx, store.InstanceFilter{States: liveStates()})
	if err != nil {
		s.log.Error("resync", "err", err)
		return
	}
	for _, in := range live {
		s.kick(in.ID)
	}
	s.removeStaleTemplates(ctx)
	n, err := s.store.PurgeTerminated(ctx, s.clock.Now().Add(-s.cfg.Retention))
	if err != nil {
		s.log.Error("purge terminated instances", "err", err)
	} else if n > 0 {
		s.log.Info("purged terminated instances", "count", n)
	}
}
