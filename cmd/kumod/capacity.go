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
	fleet    *hosts.Service
	store    *store.Store
	strategy scheduler.Strategy // "" is binpack
}

func (f fleetCapacity) Claim(ctx context.Context, p instances.Placement, typ instances.Type, ids []string, atLeast int) ([]instances.Placed, error) {
	only := make([]string, len(p.Hosts))
	for i, name := range p.Hosts {
		id, _, err := f.fleet.Names(name)
		if err != nil {
			return nil, err
		}
		only[i] = id
	}
	req := scheduler.Request{InstanceType: typ.Name, Size: sizeOf(typ), Partition: p.Partition, Strategy: f.strategy}
	if g := p.Group; g != nil {
		// By id: two accounts may name their groups alike.
		req.Group = &scheduler.Group{Name: g.ID, Strategy: scheduler.GroupStrategy(g.Strategy), Partitions: g.Partitions}
	}
	n := len(ids)
	for {
		req.Count = n
		as, err := f.fleet.Place(ctx, hosts.PlaceRequest{Request: req, InstanceIDs: ids[:n], Hosts: only})
		// EC2 launches what fits between MinCount and MaxCount.
		var short *scheduler.InsufficientCapacityError
		if errors.As(err, &short) && short.Fit >= max(atLeast, 1) && short.Fit < n {
			n = short.Fit
			continue
		}
		if err != nil {
			return nil, err
		}
		return f.placed(ctx, as, ids[:n])
	}
}

// placed says where each assignment went, with its host's name,
// releasing the claims when a host was removed meanwhile.
func (f fleetCapacity) placed(ctx context.Context, as []scheduler.Assignment, ids []string) ([]instances.Placed, error) {
	out := make([]instances.Placed, len(as))
	for i, a := range as {
		_, name, err := f.fleet.Names(a.HostID)
		if err != nil {
			f.Release(context.WithoutCancel(ctx), ids...)
			return nil, err
		}
		out[i] = instances.Placed{Host: name, Partition: a.Partition}
	}
	return out, nil
}

func (f fleetCapacity) Adopt(ctx context.Context, at instances.Placed, group string, typ instances.Type, ids ...string) error {
	hostID, _, err := f.fleet.Names(at.Host)
	if err != nil {
		return err
	}
	claims := make([]store.Claim, len(ids))
	size := sizeOf(typ)
	for i, id := range ids {
		claims[i] = store.Claim{InstanceID: id, HostID: hostID, VCPUs: size.VCPUs, MemoryMiB: size.MemoryMiB,
			Group: group, Partition: at.Partition}
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
	var all []hypervisor.DomainStats
	var failed []error
	for _, h := range f.fleet.Up() {
		reader, ok := h.Driver.(hypervisor.StatsReader)
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
// and whenever one goes down or comes back, and serves the metadata
// service on each host's data plane once it is first seen up.
func followHosts(ctx context.Context, fleet *hosts.Service, svc *instances.Service, md *metadataServers) error {
	up := func(h hosts.Host) {
		svc.HostUp(h.Name)
		if h.Netns == "" || md == nil {
			return
		}
		drv, err := fleet.Driver(h.ID)
		if err == nil {
			err = md.serve(context.Background(), h.Netns, drv)
		}
		if err != nil {
			md.log.Error("instance metadata service of a host", "host", h.Name, "err", err)
		}
	}
	fleet.OnHealthChange(func(hostID string, isUp bool) {
		h, err := fleet.Get(context.Background(), hostID)
		if err != nil {
			return
		}
		if isUp {
			up(h)
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
			up(h)
		}
	}
	return nil
}

// localHost is the name the host kumod runs on is registered under.
const localHost = "local"
