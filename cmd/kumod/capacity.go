package main

import (
	"context"
	"errors"
	"fmt"

	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/instances"
	"kumo/scheduler"
	"kumo/store"
)

// fleetCapacity places instances on kumod's hosts, through the scheduler,
// and claims their CPU and memory there. Instances know their host by
// name; the hosts service by id.
type fleetCapacity struct {
	fleet *hosts.Service
	store *store.Store
}

func (f fleetCapacity) Claim(ctx context.Context, names []string, typ instances.Type, ids []string, atLeast int) ([]string, error) {
	only := make([]string, len(names))
	for i, name := range names {
		h, err := f.fleet.Get(ctx, name)
		if err != nil {
			return nil, err
		}
		only[i] = h.ID
	}
	n := len(ids)
	for {
		as, err := f.fleet.Place(ctx, hosts.PlaceRequest{
			Request:     scheduler.Request{Count: n, InstanceType: typ.Name, Size: sizeOf(typ)},
			InstanceIDs: ids[:n], Hosts: only,
		})
		// EC2 launches what fits between MinCount and MaxCount.
		var short *scheduler.InsufficientCapacityError
		if errors.As(err, &short) && short.Fit >= max(atLeast, 1) && short.Fit < n {
			n = short.Fit
			continue
		}
		if err != nil {
			return nil, err
		}
		return f.names(ctx, as, ids[:n])
	}
}

// names gives the name of each assignment's host, releasing the claims
// when one cannot be read.
func (f fleetCapacity) names(ctx context.Context, as []scheduler.Assignment, ids []string) ([]string, error) {
	byID := map[string]string{}
	out := make([]string, len(as))
	for i, a := range as {
		if _, ok := byID[a.HostID]; !ok {
			h, err := f.fleet.Get(ctx, a.HostID)
			if err != nil {
				f.Release(context.WithoutCancel(ctx), ids...)
				return nil, err
			}
			byID[a.HostID] = h.Name
		}
		out[i] = byID[a.HostID]
	}
	return out, nil
}

func (f fleetCapacity) Adopt(ctx context.Context, name string, typ instances.Type, ids ...string) error {
	h, err := f.fleet.Get(ctx, name)
	if err != nil {
		return err
	}
	claims := make([]store.Claim, len(ids))
	size := sizeOf(typ)
	for i, id := range ids {
		claims[i] = store.Claim{InstanceID: id, HostID: h.ID, VCPUs: size.VCPUs, MemoryMiB: size.MemoryMiB}
	}
	_, err = f.fleet.Adopt(ctx, claims...)
	return err
}

func (f fleetCapacity) Release(ctx context.Context, ids ...string) error {
	if len(ids) == 0 {
		return nil
	}
	return f.fleet.Release(ctx, ids...)
}

func (f fleetCapacity) Holders(ctx context.Context) ([]string, error) {
	claims, err := f.store.Claims(ctx, "")
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(claims))
	for i, c := range claims {
		ids[i] = c.InstanceID
	}
	return ids, nil
}

func sizeOf(typ instances.Type) scheduler.Resources {
	return scheduler.Resources{VCPUs: typ.VCPUs, MemoryMiB: int64(typ.MemoryMiB)}
}

// fleetDrivers gives the instance service the drivers of the hosts
// besides kumod's own, by name.
type fleetDrivers struct{ fleet *hosts.Service }

func (f fleetDrivers) Driver(name string) (hypervisor.Driver, error) { return f.fleet.Driver(name) }

// fleetStats reads the counters of the domains of every host that is up,
// so that the metrics service samples the whole fleet as one source.
type fleetStats struct{ fleet *hosts.Service }

func (f fleetStats) DomainStats(ctx context.Context) ([]hypervisor.DomainStats, error) {
	list, err := f.fleet.List(ctx)
	if err != nil {
		return nil, err
	}
	var all []hypervisor.DomainStats
	var failed []error
	for _, h := range list {
		if h.Health != hosts.HealthUp {
			continue
		}
		drv, err := f.fleet.Driver(h.ID)
		if err != nil {
			continue // went down since the listing
		}
		reader, ok := drv.(hypervisor.StatsReader)
		if !ok {
			continue
		}
		// A host that fails still gives what it could read.
		stats, err := reader.DomainStats(ctx)
		all = append(all, stats...)
		if err != nil {
			failed = append(failed, fmt.Errorf("host %s: %w", h.Name, err))
		}
	}
	return all, errors.Join(failed...)
}

// followHosts tells the instance service of every host that is up, now
// and whenever one goes down or comes back.
func followHosts(ctx context.Context, fleet *hosts.Service, svc *instances.Service) error {
	fleet.OnHealthChange(func(hostID string, up bool) {
		h, err := fleet.Get(context.Background(), hostID)
		if err != nil {
			return
		}
		if up {
			svc.HostUp(h.Name)
		} else {
			svc.HostDown(h.Name)
		}
	})
	list, err := fleet.List(ctx)
	if err != nil {
		return err
	}
	for _, h := range list {
		if h.Health == hosts.HealthUp {
			svc.HostUp(h.Name)
		}
	}
	return nil
}

// localHost is the name the host kumod runs on is registered under.
const localHost = "local"
