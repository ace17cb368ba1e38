package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/hypervisor/fake"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/scheduler"
	"kumo/store"
)

// fleetOf3 is kumod's instance service over three fake hosts, h1 being
// its own, placing with strategy.
func fleetOf3(t *testing.T, strategy scheduler.Strategy) (*instances.Service, string) {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.Real{}
	drivers := map[string]*fake.Driver{}
	fleet := hosts.New(hosts.Config{}, st, func(uri string) (hypervisor.Driver, error) { return drivers[uri], nil }, clk, log)
	if err := fleet.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	for _, name := range []string{"h1", "h2", "h3"} {
		uri := "test:///" + name + ".xml"
		drivers[uri] = fake.New(fake.Options{})
		if _, err := fleet.Register(ctx, hosts.RegisterRequest{Name: name, URI: uri, Zone: "local-a"}); err != nil {
			t.Fatal(err)
		}
	}
	fleet.CheckHealth()
	im, err := images.New(st, filepath.Join(dir, "images"), clk, log)
	if err != nil {
		t.Fatal(err)
	}
	bzImage := make([]byte, 4096)
	copy(bzImage[0x202:], "HdrS")
	kernel, _, err := im.Upload(bytes.NewReader(bzImage), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	image, err := im.Register(ctx, images.RegisterRequest{Name: "tiny", Kernel: kernel})
	if err != nil {
		t.Fatal(err)
	}
	svc := instances.New(instances.Config{DataDir: filepath.Join(dir, "instances"), Host: "h1",
		Capacity: fleetCapacity{fleet: fleet, store: st, strategy: strategy}, Hosts: fleetDrivers{fleet}}, st, drivers["test:///h1.xml"], im, clk, log)
	if err := svc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	if err := followHosts(ctx, fleet, svc, nil); err != nil {
		t.Fatal(err)
	}
	return svc, image.ID
}

func TestPlacementGroupsAcrossHosts(t *testing.T) {
	svc, image := fleetOf3(t, scheduler.Binpack)
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
			svc, image := fleetOf3(t, strategy)
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
