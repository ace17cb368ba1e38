package instances

import (
	"context"
	"errors"
	"fmt"

	"kumo/hypervisor"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/store"
)

// StateChange is what an action did to one instance, as EC2 reports it.
type StateChange struct {
	ID       string
	Previous State
	Current  State
}

// Start powers on stopped instances.
func (s *Service) Start(ctx context.Context, ids []string) ([]StateChange, error) {
	return s.act(ctx, ids, Start)
}

// Stop powers off instances: an ACPI shutdown, forced off after the stop
// timeout, or at once when force is set.
func (s *Service) Stop(ctx context.Context, ids []string, force bool) ([]StateChange, error) {
	if force {
		s.mu.Lock()
		for _, id := range ids {
			s.forced[id] = true
		}
		s.mu.Unlock()
	}
	return s.act(ctx, ids, Stop)
}

// Reboot asks running instances' guests to restart.
func (s *Service) Reboot(ctx context.Context, ids []string) ([]StateChange, error) {
	return s.act(ctx, ids, Reboot)
}

// Terminate destroys instances and their disks.
func (s *Service) Terminate(ctx context.Context, ids []string) ([]StateChange, error) {
	return s.act(ctx, ids, Terminate)
}

// act checks the event is legal for every instance before it changes any,
// as EC2 refuses a whole request when one instance is in the wrong state.
func (s *Service) act(ctx context.Context, idList []string, ev Event) ([]StateChange, error) {
	if len(idList) == 0 {
		return nil, errs.New(errs.MissingParameter, "at least one instance id is required")
	}
	rows := make([]store.Instance, 0, len(idList))
	seen := map[string]bool{}
	for _, id := range idList {
		if seen[id] {
			continue
		}
		seen[id] = true
		in, err := s.get(ctx, id)
		if err != nil {
			return nil, err
		}
		if _, err := Next(in.ID, State(in.State), ev); err != nil {
			return nil, err
		}
		rows = append(rows, in)
	}
	out := make([]StateChange, 0, len(rows))
	for _, in := range rows {
		ch, err := s.actOne(ctx, in, ev)
		if err != nil {
			return out, err
		}
		out = append(out, ch)
	}
	return out, nil
}

func (s *Service) actOne(ctx context.Context, in store.Instance, ev Event) (StateChange, error) {
	// A background step may move the instance between our read and our
	// write; the compare-and-set notices, and we decide again on fresh data.
	for attempt := 0; ; attempt++ {
		m, err := Next(in.ID, State(in.State), ev)
		if err != nil {
			return StateChange{}, err
		}
		ch := StateChange{ID: in.ID, Previous: State(in.State), Current: m.To}
		if !m.Act {
			return ch, nil
		}
		if ev == Reboot {
			drv, err := s.driverOf(in.Host)
			if err != nil {
				return StateChange{}, err
			}
			if err := drv.Reboot(ctx, in.ID); err != nil && !errors.Is(err, hypervisor.ErrInvalidState) {
				return StateChange{}, fmt.Errorf("reboot %s: %w", in.ID, err)
			}
			s.log.Info("instance rebooting", "instance", in.ID)
			s.enforceReboot(in.ID, s.clock.Now())
			return ch, nil
		}
		// A stopped instance holds no capacity: starting it claims its
		// share of its host again, or fails as EC2 does when it is full.
		// The converge that stopped it releases the old claim just after
		// recording the stop; holding the instance's lock waits for that.
		claimed := false
		if ev == Start {
			s.mu.Lock()
			l := s.lockFor(in.ID)
			s.mu.Unlock()
			l.Lock()
			l.Unlock()
			typ, _ := LookupType(in.Type)
			p, err := s.placementOfInstance(ctx, in)
			if err != nil {
				return StateChange{}, err
			}
			if _, err := s.capacity.Claim(ctx, p, typ, []string{in.ID}, 1); err != nil {
				return StateChange{}, err
			}
			claimed = true
		}
		err = s.apply(ctx, in, ev, "")
		if err == nil {
			s.kick(in.ID)
			return ch, nil
		}
		if claimed {
			if rerr := s.capacity.Release(context.WithoutCancel(ctx), in.ID); rerr != nil {
				s.log.Error("release capacity", "instance", in.ID, "err", rerr)
			}
		}
		if !errors.Is(err, store.ErrStale) || attempt == 3 {
			return StateChange{}, err
		}
		if in, err = s.store.Instance(ctx, in.ID); err != nil {
			return StateChange{}, err
		}
	}
}

// Get returns one instance.
func (s *Service) Get(ctx context.Context, id string) (Instance, error) {
	in, err := s.get(ctx, id)
	if err != nil {
		return Instance{}, err
	}
	return s.view(in), nil
}

func (s *Service) get(ctx context.Context, id string) (store.Instance, error) {
	if !ids.Valid("i", id) {
		return store.Instance{}, errs.New(ErrMalformed, "invalid id: \"%s\"", id)
	}
	in, err := s.store.Instance(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Instance{}, errs.New(ErrNotFound, "the instance ID '%s' does not exist", id)
	}
	return in, err
}

// List returns instances, all or those with the given ids (each must
// exist, as EC2 answers an unknown id with an error rather than nothing).
func (s *Service) List(ctx context.Context, idList []string) ([]Instance, error) {
	for _, id := range idList {
		if !ids.Valid("i", id) {
			return nil, errs.New(ErrMalformed, "invalid id: \"%s\"", id)
		}
	}
	rows, err := s.store.Instances(ctx, store.InstanceFilter{IDs: idList})
	if err != nil {
		return nil, err
	}
	if len(idList) > 0 {
		found := map[string]bool{}
		for _, r := range rows {
			found[r.ID] = true
		}
		for _, id := range idList {
			if !found[id] {
				return nil, errs.New(ErrNotFound, "the instance ID '%s' does not exist", id)
			}
		}
	}
	out := make([]Instance, len(rows))
	for i, r := range rows {
		out[i] = s.view(r)
	}
	return out, nil
}

// ConsoleLog returns what the guest printed on its serial console.
func (s *Service) ConsoleLog(ctx context.Context, id string) ([]byte, error) {
	in, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	return readTail(s.disks.console(in.ID), 64*1024)
}
