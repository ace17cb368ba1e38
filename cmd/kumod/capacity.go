package main

import (
	"context"
	"errors"

	"kumo/hosts"
	"kumo/instances"
	"kumo/scheduler"
	"kumo/store"
)

// fleetCapacity claims instances' CPU and memory on kumod's hosts. Only
// the local host runs instances so far, so every instance is placed there
// whatever host name it recorded; placing across hosts comes with driving
// a driver per host.
type fleetCapacity struct {
	fleet *hosts.Service
	store *store.Store
	local hosts.Host
}

func (f fleetCapacity) Claim(ctx context.Context, _ string, typ instances.Type, ids []string, atLeast int) (int, error) {
	n := len(ids)
	for {
		_, err := f.fleet.Place(ctx, hosts.PlaceRequest{
			Request:     scheduler.Request{Count: n, InstanceType: typ.Name, Size: sizeOf(typ)},
			InstanceIDs: ids[:n], Hosts: []string{f.local.ID},
		})
		// EC2 launches what fits between MinCount and MaxCount.
		var short *scheduler.InsufficientCapacityError
		if errors.As(err, &short) && short.Fit >= max(atLeast, 1) && short.Fit < n {
			n = short.Fit
			continue
		}
		if err != nil {
			return 0, err
		}
		return n, nil
	}
}

func (f fleetCapacity) Adopt(ctx context.Context, _ string, typ instances.Type, ids ...string) error {
	claims := make([]store.Claim, len(ids))
	size := sizeOf(typ)
	for i, id := range ids {
		claims[i] = store.Claim{InstanceID: id, HostID: f.local.ID, VCPUs: size.VCPUs, MemoryMiB: size.MemoryMiB}
	}
	_, err := f.fleet.Adopt(ctx, claims...)
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

// localHost is the name the host kumod runs on is registered under.
const localHost = "local"
