package hosts

import (
	"context"
	"errors"
	"slices"

	"kumo/internal/errs"
	"kumo/scheduler"
	"kumo/store"
)

// PlaceRequest asks for capacity for named instances.
type PlaceRequest struct {
	scheduler.Request
	// InstanceIDs names the instances, one each: assignment i is
	// InstanceIDs[i]'s. A zero Count is taken from its length.
	InstanceIDs []string
	// Hosts, when not empty, narrows placement to these host ids, as when
	// a stopped instance starts again on the host holding its disks.
	Hosts []string
}

// Place chooses a host for each instance and claims the capacity there,
// in one store transaction: the hosts' usage is read, the scheduler
// places the request and the claims are written with no other placement
// in between, so concurrent calls never book a host past its capacity.
// The request is placed whole or not at all.
//
// Only hosts that are enabled and up take instances. Errors are the
// scheduler's (*scheduler.InsufficientCapacityError and the others),
// ErrClaimed for an instance that already holds capacity, and ErrNotFound
// for an unknown host in Hosts. The caller must Release the claims when
// the launch fails or the instances stop or terminate.
func (s *Service) Place(ctx context.Context, req PlaceRequest) ([]scheduler.Assignment, error) {
	if err := checkInstances(&req); err != nil {
		return nil, err
	}
	group := ""
	if req.Group != nil {
		group = req.Group.Name
	}
	wanted := map[string]bool{}
	for _, id := range req.Hosts {
		wanted[id] = true
	}
	now := s.clock.Now()
	var out []scheduler.Assignment
	_, err := s.store.ClaimCapacity(ctx, store.ClaimQuery{HostIDs: req.Hosts, Group: group, Instances: req.InstanceIDs}, func(fleet []store.HostLoad) ([]store.Claim, error) {
		if len(fleet) < len(wanted) {
			return nil, missingHost(fleet, req.Hosts)
		}
		snap := make([]scheduler.Host, len(fleet))
		for i := range fleet {
			snap[i] = schedulerHost(&fleet[i], group)
		}
		as, err := scheduler.Place(snap, req.Request)
		if err != nil {
			return nil, err
		}
		claims := make([]store.Claim, len(as))
		for i, a := range as {
			claims[i] = store.Claim{InstanceID: req.InstanceIDs[i], HostID: a.HostID,
				VCPUs: req.Size.VCPUs, MemoryMiB: req.Size.MemoryMiB, Group: group, Partition: a.Partition, CreatedAt: now}
		}
		out = as
		return claims, nil
	})
	if errors.Is(err, store.ErrDuplicate) {
		return nil, errs.New(ErrClaimed, "an instance of the request already holds capacity: %v", err)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkInstances(req *PlaceRequest) error {
	if req.Count == 0 {
		req.Count = len(req.InstanceIDs)
	}
	if req.Count != len(req.InstanceIDs) {
		return errs.New(errs.InvalidParameter, "%d instances requested and %d instance ids given", req.Count, len(req.InstanceIDs))
	}
	seen := make(map[string]bool, len(req.InstanceIDs))
	for _, id := range req.InstanceIDs {
		if id == "" || seen[id] {
			return errs.New(errs.InvalidParameter, "instance ids must be given and distinct; %q is not", id)
		}
		seen[id] = true
	}
	return nil
}

func missingHost(fleet []store.HostLoad, wanted []string) error {
	found := map[string]bool{}
	for _, h := range fleet {
		found[h.ID] = true
	}
	for _, id := range wanted {
		if !found[id] {
			return errs.New(ErrNotFound, "the host '%s' does not exist", id)
		}
	}
	return nil
}

// schedulerHost is the scheduler's view of a host and its claims; group
// names the placement group whose members it counts, "" for none.
func schedulerHost(r *store.HostLoad, group string) scheduler.Host {
	h := scheduler.Host{
		ID: r.ID, Name: r.Name, Zone: r.Zone, Arch: r.Arch, State: schedulerState(r),
		Capacity:    scheduler.Resources{VCPUs: r.CPUs, MemoryMiB: r.MemoryMiB},
		Reserved:    scheduler.Resources{VCPUs: r.ReservedVCPUs, MemoryMiB: r.ReservedMemoryMiB},
		CPURatio:    r.CPURatio,
		MemoryRatio: r.MemoryRatio,
		Used:        scheduler.Resources{VCPUs: r.Used.VCPUs, MemoryMiB: r.Used.MemoryMiB},
	}
	if group != "" && r.Group.Claims > 0 {
		h.Groups = map[string]scheduler.Membership{group: {Instances: r.Group.Claims, Partition: r.Group.Partition}}
	}
	return h
}

// schedulerState folds the two kinds of state into one: a host that is
// not known to be up takes nothing, whatever the operator wants of it.
func schedulerState(r *store.HostLoad) scheduler.HostState {
	switch {
	case Health(r.Health) != HealthUp:
		return scheduler.HostDown
	case State(r.State) == StateDraining:
		return scheduler.HostDraining
	}
	return scheduler.HostUp
}

// Release gives back the capacity the instances hold. Instances without a
// claim are skipped, so it is safe to call on every failure, stop and
// termination.
func (s *Service) Release(ctx context.Context, instanceIDs ...string) error {
	if len(instanceIDs) == 0 {
		return nil
	}
	_, err := s.store.ReleaseClaims(ctx, instanceIDs...)
	return err
}

// Adopt records the capacity held by instances that are already on their
// hosts, without placing them: instances that ran before capacity was
// claimed, or found on a host during reconciliation. A host may end up
// past its capacity, since the instances run there already. Instances
// that hold a claim keep it; it returns how many claims it added.
func (s *Service) Adopt(ctx context.Context, claims ...store.Claim) (int, error) {
	now := s.clock.Now()
	claims = slices.Clone(claims)
	for i := range claims {
		if claims[i].CreatedAt.IsZero() {
			claims[i].CreatedAt = now
		}
	}
	n, err := s.store.AdoptClaims(ctx, claims)
	if errors.Is(err, store.ErrNotFound) {
		return 0, errs.New(ErrNotFound, "%v", err)
	}
	return n, err
}
