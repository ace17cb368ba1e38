package main

import (
	"context"
	"errors"
	"testing"
	"time"

	"kumo/instances"
	"kumo/internal/errs"
	"kumo/scheduler"
)

func TestPlacementGroupsAcrossHosts(t *testing.T) {
	c := newSimCloud(t, simFleet{Hosts: 3, CPUs: 2, MemoryMiB: 4096})
	svc, image := c.svc, c.image
	ctx := context.Background()
	alice := svc.For("alice")
	for _, g := range []instances.PlacementGroupRequest{
		{Name: "db", Strategy: instances.GroupCluster},
		{Name: "web", Strategy: instances.GroupSpread},
		{Name: "hdfs", Strategy: instances.GroupPartition, Partitions: 3},
	} {
		if _, err := alice.CreatePlacementGroup(ctx, g); err != nil {
			t.Fatal(err)
		}
	}
	run := func(group string, count int) ([]instances.Instance, error) {
		return alice.Run(ctx, instances.RunRequest{Image: image, Type: "t2.nano", MinCount: count, MaxCount: count, PlacementGroup: group})
	}
	hostsOf := func(ins []instances.Instance) map[string]int {
		on := map[string]int{}
		for _, in := range ins {
			on[in.Host]++
		}
		return on
	}

	// Spread: one host each; a fourth has nowhere to go.
	web, err := run("web", 3)
	if err != nil {
		t.Fatal(err)
	}
	if on := hostsOf(web); len(on) != 3 {
		t.Fatalf("a spread group of 3 on hosts %v", on)
	}
	if _, err := run("web", 1); !errors.Is(err, errs.InsufficientSpace) {
		t.Fatalf("a fourth spread instance on three hosts: %v, want InsufficientInstanceCapacity", err)
	}
	// Cluster: together, launch after launch.
	db, err := run("db", 2)
	if err != nil {
		t.Fatal(err)
	}
	more, err := run("db", 2)
	if err != nil {
		t.Fatal(err)
	}
	if on := hostsOf(append(db, more...)); len(on) != 1 {
		t.Fatalf("a cluster group on hosts %v", on)
	}
	// Partition: no host holds two partitions.
	hdfs, err := run("hdfs", 6)
	if err != nil {
		t.Fatal(err)
	}
	partitionOf := map[string]int{}
	for _, in := range hdfs {
		if in.Partition < 1 || in.Partition > 3 {
			t.Fatalf("%s in partition %d of 3", in.ID, in.Partition)
		}
		if p, ok := partitionOf[in.Host]; ok && p != in.Partition {
			t.Fatalf("host %s holds partitions %d and %d", in.Host, p, in.Partition)
		}
		partitionOf[in.Host] = in.Partition
	}
	// A stopped member starts again in its group: the spread group's
	// other hosts stay out of reach.
	waitFor(t, svc, web[0].ID, instances.Running)
	if _, err := svc.Stop(ctx, []string{web[0].ID}, true); err != nil {
		t.Fatal(err)
	}
	waitFor(t, svc, web[0].ID, instances.Stopped)
	if _, err := svc.Start(ctx, []string{web[0].ID}); err != nil {
		t.Fatalf("start a spread member on its own host: %v", err)
	}
	if got, _ := svc.Get(ctx, web[0].ID); got.Host != web[0].Host || got.PlacementGroup != web[0].PlacementGroup {
		t.Fatalf("restarted: %+v, was on %s in %s", got.Instance, web[0].Host, web[0].PlacementGroup)
	}
}

func waitFor(t *testing.T, svc *instances.Service, id string, want instances.State) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if in, _ := svc.Get(context.Background(), id); in.State == want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never %s", id, want)
		}
	}
}

func TestStrategies(t *testing.T) {
	for strategy, wantHosts := range map[scheduler.Strategy]int{scheduler.Binpack: 1, scheduler.Spread: 3} {
		t.Run(string(strategy), func(t *testing.T) {
			c := newSimCloud(t, simFleet{Hosts: 3, CPUs: 2, MemoryMiB: 4096, Strategy: strategy})
			svc, image := c.svc, c.image
			on := map[string]bool{}
			for range 3 {
				ins, err := svc.For("alice").Run(context.Background(), instances.RunRequest{Image: image, Type: "t2.nano", MinCount: 1, MaxCount: 1})
				if err != nil {
					t.Fatal(err)
				}
				on[ins[0].Host] = true
			}
			if len(on) != wantHosts {
				t.Fatalf("three launches on hosts %v, want %d hosts", on, wantHosts)
			}
		})
	}
}
