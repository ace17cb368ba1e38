package instances

import (
	"errors"
	"time"

	"kumo/hypervisor"
)

// enforceReboot power-cycles the instance if its guest has not restarted
// RebootTimeout after a reboot request: a guest that ignores the ACPI
// request (hung, or still booting when it came) would otherwise never
// reboot. The cold start boots from the instance's own definition.
func (s *Service) enforceReboot(id string, requested time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.spawnLocked(func() {
		deadline := requested.Add(s.cfg.RebootTimeout)
		for s.clock.Now().Before(deadline) {
			select {
			case <-s.ctx.Done():
				return
			case <-s.clock.After(time.Second):
			}
			if s.rebootedSince(id, requested) {
				return
			}
		}
		s.mu.Lock()
		l := s.lockFor(id)
		s.mu.Unlock()
		l.Lock()
		defer l.Unlock()
		in, err := s.store.Instance(s.ctx, id)
		if err != nil || State(in.State) != Running || s.rebootedSince(id, requested) {
			return
		}
		drv, err := s.driverOf(in.Host)
		if err != nil {
			s.log.Error("hard reboot", "instance", id, "err", err)
			return
		}
		s.log.Warn("guest ignored the reboot request; power-cycling it", "instance", id, "timeout", s.cfg.RebootTimeout)
		if err := drv.Destroy(s.ctx, id); err != nil && !errors.Is(err, hypervisor.ErrNotFound) {
			s.log.Error("hard reboot: power off", "instance", id, "err", err)
			return
		}
		if err := drv.Start(s.ctx, id); err != nil {
			s.log.Error("hard reboot: power on", "instance", id, "err", err)
		}
	})
}

func (s *Service) rebootedSince(id string, t time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.rebootedAt[id].Before(t)
}
