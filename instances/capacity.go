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
	// order, as p allows, and takes their capacity there, all in one
	// step: it returns where it placed each, or an error of kind
	// errs.InsufficientSpace and places none.
	Claim(ctx context.Context, p Placement, typ Type, ids []string, atLeast int) ([]Placed, error)
	// Adopt records capacity held by instances that already run on a
	// host, even past what it has; instances holding a claim keep theirs.
	Adopt(ctx context.Context, at Placed, group string, typ Type, ids ...string) error
	// Release gives back what the instances hold; it skips those that
	// hold nothing.
	Release(ctx context.Context, ids ...string) error
	// Holders lists the instances holding capacity.
	Holders(ctx context.Context) ([]string, error)
}

// Placement narrows where Claim may place instances.
type Placement struct {
	Hosts     []string              // only these, by name; any host when empty
	Group     *store.PlacementGroup // nil for none
	Partition int                   // a partition group's; 0 lets the scheduler pick
}

// Placed is where Claim put an instance.
type Placed struct {
	Host      string
	Partition int // in a partition group; 0 otherwise
}

// noCapacity is the capacity of a service given none: it places every
// instance on the service's host and claims nothing.
type noCapacity struct{ host string }

func (c noCapacity) Claim(_ context.Context, p Placement, _ Type, ids []string, _ int) ([]Placed, error) {
	placed := make([]Placed, len(ids))
	for i := range placed {
		placed[i] = Placed{Host: c.host, Partition: max(p.Partition, 1)}
		if p.Group == nil || p.Group.Strategy != GroupPartition {
			placed[i].Partition = 0
		}
	}
	return placed, nil
}
func (noCapacity) Adopt(context.Context, Placed, string, Type, ...string) error { return nil }
func (noCapacity) Release(context.Context, ...string) error                     { return nil }
func (noCapacity) Holders(context.Context) ([]string, error)                    { return nil, nil }

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
	// Adopted together: instances of one type, on one host and in one
	// group and partition.
	type batch struct {
		typ   Type
		at    Placed
		group string
	}
	batches := map[batch][]string{}
	for _, in := range all {
		if !holdsCapacity(State(in.State)) {
			continue
		}
		holding[in.ID] = true
		typ, ok := LookupType(in.Type)
		if !ok {
			continue
		}
		b := batch{typ: typ, at: Placed{Host: in.Host, Partition: in.Partition}, group: in.PlacementGroup}
		batches[b] = append(batches[b], in.ID)
	}
	for b, ids := range batches {
		if err := s.capacity.Adopt(ctx, b.at, b.group, b.typ, ids...); err != nil {
			return fmt.Errorf("adopt capacity of %d %s instances on %s: %w", len(ids), b.typ.Name, b.at.Host, err)
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
