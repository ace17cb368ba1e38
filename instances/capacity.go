package instances

import (
	"context"
	"fmt"

	"kumo/store"
)

// Capacity claims hosts' CPU and memory for instances, so that no host is
// booked past what it can run. The hosts package keeps the claims; a
// stopped or terminated instance holds none, as on EC2.
type Capacity interface {
	// Claim places as many of ids as fit, at least atLeast of them and in
	// order, on hosts (any host when hosts is empty) and takes their
	// capacity there, all in one step: it returns the host of each
	// instance it placed, or an error of kind errs.InsufficientSpace and
	// places none.
	Claim(ctx context.Context, hosts []string, typ Type, ids []string, atLeast int) ([]string, error)
	// Adopt records capacity held by instances that already run on host,
	// even past what it has; instances holding a claim keep theirs.
	Adopt(ctx context.Context, host string, typ Type, ids ...string) error
	// Release gives back what the instances hold; it skips those that
	// hold nothing.
	Release(ctx context.Context, ids ...string) error
	// Holders lists the instances holding capacity.
	Holders(ctx context.Context) ([]string, error)
}

// noCapacity is the capacity of a service given none: it places every
// instance on the service's host and claims nothing.
type noCapacity struct{ host string }

func (c noCapacity) Claim(_ context.Context, _ []string, _ Type, ids []string, _ int) ([]string, error) {
	hosts := make([]string, len(ids))
	for i := range hosts {
		hosts[i] = c.host
	}
	return hosts, nil
}
func (noCapacity) Adopt(context.Context, string, Type, ...string) error { return nil }
func (noCapacity) Release(context.Context, ...string) error             { return nil }
func (noCapacity) Holders(context.Context) ([]string, error)            { return nil, nil }

// holdsCapacity is whether an instance in state needs its host's CPU and
// memory: every state but stopped and terminated.
func holdsCapacity(state State) bool { return state != Stopped && state != Terminated }

// syncCapacity makes the claims agree with the instances after a start:
// live instances without a claim (launched before claims, or by a
// kumod that crashed between claiming and recording) get one, and claims
// of instances that are stopped, terminated or gone are released.
func (s *Service) syncCapacity(ctx context.Context) error {
	all, err := s.store.Instances(ctx, store.InstanceFilter{})
	if err != nil {
		return err
	}
	holding := map[string]bool{}
	byType := map[Type]map[string][]string{} // type, host, ids
	for _, in := range all {
		if !holdsCapacity(State(in.State)) {
			continue
		}
		holding[in.ID] = true
		typ, ok := LookupType(in.Type)
		if !ok {
			continue
		}
		if byType[typ] == nil {
			byType[typ] = map[string][]string{}
		}
		byType[typ][in.Host] = append(byType[typ][in.Host], in.ID)
	}
	for typ, hosts := range byType {
		for host, ids := range hosts {
			if err := s.capacity.Adopt(ctx, host, typ, ids...); err != nil {
				return fmt.Errorf("adopt capacity of %d %s instances on %s: %w", len(ids), typ.Name, host, err)
			}
		}
	}
	holders, err := s.capacity.Holders(ctx)
	if err != nil {
		return err
	}
	var stale []string
	for _, id := range holders {
		if !holding[id] {
			stale = append(stale, id)
		}
	}
	return s.capacity.Release(ctx, stale...)
}
