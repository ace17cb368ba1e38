package instances

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"kumo/hypervisor"
	"kumo/store"
)

// pollInterval is how often a stop checks whether the guest is off yet.
const pollInterval = 200 * time.Millisecond

// acpiRepeat is how often a stop presses the power button again while the
// guest is still running.
const acpiRepeat = 3 * time.Second

// kick schedules a converge of the instance. Kicks that arrive while one is
// already waiting to run fold into it: converge reads the latest state.
func (s *Service) kick(id string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.queued[id] {
		return
	}
	l := s.lockFor(id)
	s.queued[id] = s.spawnLocked(func() {
		l.Lock()
		defer l.Unlock()
		s.mu.Lock()
		delete(s.queued, id)
		s.mu.Unlock()
		if err := s.converge(s.ctx, id); err != nil && s.ctx.Err() == nil {
			s.log.Error("converge failed", "instance", id, "err", err)
		}
	})
}

func (s *Service) lockFor(id string) *sync.Mutex {
	l, ok := s.locks[id]
	if !ok {
		l = &sync.Mutex{}
		s.locks[id] = l
	}
	return l
}

// converge does whatever the instance's recorded state still needs from the
// hypervisor. It runs with the instance's lock held.
func (s *Service) converge(ctx context.Context, id string) error {
	for {
		in, err := s.store.Instance(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return nil
		}
		if err != nil {
			return err
		}
		if !hasWork(State(in.State)) {
			return nil
		}
		drv, err := s.driverOf(in.Host)
		if err != nil {
			// Nothing can be done there until the host returns, when
			// HostUp converges its instances again.
			s.log.Debug("converge waits for the host", "instance", id, "err", err)
			return nil
		}
		var again bool
		switch State(in.State) {
		case Pending:
			again, err = s.launch(ctx, drv, in)
		case Running:
			err = s.checkRunning(ctx, drv, in)
		case Stopping:
			err = s.stop(ctx, drv, in)
		case ShuttingDown:
			err = s.terminate(ctx, drv, in)
		}
		if errors.Is(err, store.ErrStale) {
			// Another action moved the instance meanwhile (a terminate
			// during a launch) and scheduled its own converge.
			s.log.Debug("converge overtaken", "instance", id, "err", err)
			return nil
		}
		if err != nil || !again {
			return err
		}
	}
}

// hasWork reports whether an instance in state needs anything from its
// hypervisor.
func hasWork(state State) bool {
	return state == Pending || state == Running || state == Stopping || state == ShuttingDown
}

// step is one named part of a launch, so failures say where they happened.
type step struct {
	name string
	do   func() error
}

// launch brings a pending instance to running. Every step checks what
// already exists, so a launch cut short by a crash resumes where it was.
// It reports again=true when it moved the instance to a state that needs
// more work (a failed first launch must be cleaned up).
func (s *Service) launch(ctx context.Context, drv hypervisor.Driver, in store.Instance) (again bool, err error) {
	im, err := s.store.Image(ctx, in.ImageID)
	if err != nil {
		return false, err
	}
	net, err := drv.Network(ctx, in.Network)
	if err != nil {
		return false, fmt.Errorf("network %s: %w", in.Network, err)
	}
	sp, err := s.spec(in, im, net)
	if err != nil {
		return false, err
	}
	steps := []step{
		{"root-disk", func() error {
			if im.Disk == "" {
				return nil
			}
			return createRoot(ctx, sp.Disks[0].Path, s.images.Blobs().Path(im.Disk), im.DiskFormat)
		}},
		{"seed-disk", func() error { return createSeed(s.disks.seed(in.ID), in.ID, in.UserData) }},
		{"define-domain", func() error {
			if err := drv.Define(ctx, sp); !errors.Is(err, hypervisor.ErrExists) {
				return err
			}
			return nil
		}},
		{"start-domain", func() error { return s.startDomain(ctx, drv, in, im, sp, net) }},
	}
	// Each step's time goes to the log: where a launch spends it is the
	// first thing to know about a slow one.
	took := make([]any, 0, 2*len(steps))
	for _, st := range steps {
		start := time.Now()
		if err := st.do(); err != nil {
			if ctx.Err() != nil {
				return false, ctx.Err()
			}
			return s.launchFailed(ctx, in, st.name, err)
		}
		took = append(took, st.name, time.Since(start).Round(time.Millisecond))
	}
	s.log.Info("launch steps", append([]any{"instance", in.ID}, took...)...)
	return false, s.apply(ctx, in, Launched, "")
}

// startDomain powers the domain on: restored from a template on its first
// launch when one is ready, booted otherwise. A restart boots, since the
// instance's disk has moved on from the template's. Templates are built on
// the service's own host and stay there: another host may not see the
// file.
func (s *Service) startDomain(ctx context.Context, drv hypervisor.Driver, in store.Instance, im store.Image, sp hypervisor.Spec, net hypervisor.Network) error {
	if d, err := drv.Inspect(ctx, in.ID); err == nil && d.State == hypervisor.PowerRunning {
		return nil // started before a crash cut the launch short
	}
	if in.StartedAt.IsZero() && in.Host == s.cfg.Host {
		typ, _ := LookupType(in.Type)
		if path := s.readyTemplate(im, typ); path != "" {
			err := s.restoreFromTemplate(ctx, in, sp, net, path)
			if err == nil {
				s.log.Info("restored from template", "instance", in.ID, "template", templateKey(im, typ))
				return nil
			}
			if ctx.Err() != nil {
				return ctx.Err()
			}
			s.log.Warn("restore from template failed; booting", "instance", in.ID, "err", err)
			s.discardTemplate(templateKey(im, typ))
		}
	}
	return drv.Start(ctx, in.ID)
}

func (s *Service) launchFailed(ctx context.Context, in store.Instance, stepName string, cause error) (bool, error) {
	s.log.Error("launch step failed", "instance", in.ID, "step", stepName, "err", cause)
	reason := fmt.Sprintf("Server.InternalError: %s failed: %v", stepName, cause)
	ev := LaunchFailed
	if !in.StartedAt.IsZero() {
		// It ran before: its disk holds the user's data, so it goes back to
		// stopped rather than being thrown away.
		ev = StartFailed
	}
	if err := s.apply(ctx, in, ev, reason); err != nil {
		return false, err
	}
	return ev == LaunchFailed, nil
}

// checkRunning notices a guest that powered itself off or a domain that
// vanished while the instance should be running.
func (s *Service) checkRunning(ctx context.Context, drv hypervisor.Driver, in store.Instance) error {
	d, err := drv.Inspect(ctx, in.ID)
	if errors.Is(err, hypervisor.ErrNotFound) {
		s.log.Warn("running instance has no domain; launching it again", "instance", in.ID)
		if err := s.store.SetInstanceState(ctx, in.ID, in.State, string(Pending), "Server.InternalError: domain lost", s.clock.Now()); err != nil {
			return err
		}
		s.changed(in.ID, Pending)
		s.kick(in.ID)
		return nil
	}
	if err != nil {
		return err
	}
	switch d.State {
	case hypervisor.PowerShutoff, hypervisor.PowerCrashed:
		return s.apply(ctx, in, PoweredOff, "Client.InstanceInitiatedShutdown: Instance initiated shutdown")
	}
	return s.offerIdentity(ctx, drv, in)
}

// stop asks the guest to power off and forces it after StopTimeout.
func (s *Service) stop(ctx context.Context, drv hypervisor.Driver, in store.Instance) error {
	s.mu.Lock()
	forced := s.forced[in.ID]
	delete(s.forced, in.ID)
	s.mu.Unlock()
	if !forced {
		if err := drv.Shutdown(ctx, in.ID); err != nil && !errors.Is(err, hypervisor.ErrNotFound) {
			s.log.Warn("ACPI shutdown failed; forcing off", "instance", in.ID, "err", err)
			forced = true
		}
	}
	deadline := s.clock.Now().Add(s.cfg.StopTimeout)
	press := s.clock.Now().Add(acpiRepeat)
	for !forced {
		off, err := isOff(ctx, drv, in.ID)
		if err != nil {
			return err
		}
		if off {
			return s.apply(ctx, in, StopDone, "Client.UserInitiatedShutdown: User initiated shutdown")
		}
		if !s.clock.Now().Before(deadline) {
			s.log.Warn("guest ignored ACPI shutdown; forcing off", "instance", in.ID, "timeout", s.cfg.StopTimeout)
			break
		}
		// A guest still booting has nothing listening to the power
		// button yet and loses the press: press again, as a person would.
		if !s.clock.Now().Before(press) {
			press = s.clock.Now().Add(acpiRepeat)
			if err := drv.Shutdown(ctx, in.ID); err != nil && !errors.Is(err, hypervisor.ErrNotFound) {
				s.log.Warn("repeated ACPI shutdown failed", "instance", in.ID, "err", err)
			}
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-s.clock.After(pollInterval):
		}
		// Another action (a terminate) may have taken over meanwhile.
		cur, err := s.store.Instance(ctx, in.ID)
		if err != nil || cur.State != in.State {
			return err
		}
	}
	if err := drv.Destroy(ctx, in.ID); err != nil && !errors.Is(err, hypervisor.ErrNotFound) {
		return fmt.Errorf("force off %s: %w", in.ID, err)
	}
	return s.apply(ctx, in, StopDone, "Client.UserInitiatedShutdown: User initiated shutdown")
}

func isOff(ctx context.Context, drv hypervisor.Driver, id string) (bool, error) {
	d, err := drv.Inspect(ctx, id)
	if errors.Is(err, hypervisor.ErrNotFound) {
		return true, nil
	}
	if err != nil {
		return false, err
	}
	return d.State == hypervisor.PowerShutoff || d.State == hypervisor.PowerCrashed, nil
}

// terminate removes the domain and the disks, then releases the address.
func (s *Service) terminate(ctx context.Context, drv hypervisor.Driver, in store.Instance) error {
	if err := drv.Destroy(ctx, in.ID); err != nil && !errors.Is(err, hypervisor.ErrNotFound) {
		return fmt.Errorf("destroy %s: %w", in.ID, err)
	}
	if err := drv.Undefine(ctx, in.ID); err != nil && !errors.Is(err, hypervisor.ErrNotFound) {
		return fmt.Errorf("undefine %s: %w", in.ID, err)
	}
	if err := s.disks.remove(in.ID); err != nil {
		return fmt.Errorf("remove disks of %s: %w", in.ID, err)
	}
	reason := in.StateReason
	if reason == "" {
		reason = "Client.UserInitiatedShutdown: User initiated shutdown"
	}
	return s.apply(ctx, in, TerminateDone, reason)
}

// apply records the move event causes, if the row still holds what in says.
func (s *Service) apply(ctx context.Context, in store.Instance, ev Event, reason string) error {
	m, err := Next(in.ID, State(in.State), ev)
	if err != nil {
		return err
	}
	if err := s.store.SetInstanceState(ctx, in.ID, in.State, string(m.To), reason, s.clock.Now()); err != nil {
		return err
	}
	s.log.Info("instance "+string(m.To), "instance", in.ID, "event", string(ev), "reason", reason)
	s.changed(in.ID, m.To)
	return nil
}
