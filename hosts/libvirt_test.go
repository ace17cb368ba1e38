package hosts_test

import (
	"context"
	"errors"
	"testing"

	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/hypervisor/libvirt"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/scheduler"
)

// TestLibvirtTestDriverCapacity registers hosts on libvirt's in-process
// test driver (no daemon) and checks that their capacity is the node info
// libvirt reports: 16 CPUs and 3 GiB for test:///default.
func TestLibvirtTestDriverCapacity(t *testing.T) {
	ctx := context.Background()
	connect := func(uri string) (hypervisor.Driver, error) { return libvirt.New(uri, libvirt.Options{Accel: "tcg"}) }
	// Held open for the whole test, so that every connection shares one
	// simulated machine.
	direct, err := connect("test:///default")
	if err != nil {
		t.Fatal(err)
	}
	defer direct.Close()
	info, err := direct.Host(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if info.CPUs != 16 || info.MemoryMiB != 3072 || info.Arch != "i686" {
		t.Fatalf("node info of test:///default: %+v; the test driver changed", info)
	}

	e := newEnv(t, hosts.Config{})
	svc := hosts.New(hosts.Config{}, e.store, connect, clock.Real{}, quietLog())
	if err := svc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	for _, name := range []string{"sim1", "sim2"} {
		_, err := svc.Register(ctx, hosts.RegisterRequest{Name: name, URI: "test:///default", Zone: "sim-a",
			Reserved: scheduler.Resources{VCPUs: 2, MemoryMiB: 1024}, MemoryRatio: 1.5})
		if err != nil {
			t.Fatalf("register %s: %v", name, err)
		}
	}
	all, err := svc.List(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("list: %+v, %v", all, err)
	}
	for _, h := range all {
		// (16-2)×16 vCPUs; (3072-1024)×1.5 MiB.
		if h.Reported != (scheduler.Resources{VCPUs: 16, MemoryMiB: 3072}) || h.Arch != "i686" ||
			h.Capacity != (scheduler.Resources{VCPUs: 224, MemoryMiB: 3072}) || h.Health != hosts.HealthUp {
			t.Errorf("host %s: %+v", h.Name, h)
		}
	}

	// Six instances of 512 MiB fit in 3 072 MiB: twelve on the two hosts.
	req := hosts.PlaceRequest{Request: scheduler.Request{Size: scheduler.Resources{VCPUs: 1, MemoryMiB: 512}, Arch: "i686"}}
	for i := range 13 {
		req.InstanceIDs = append(req.InstanceIDs, string(rune('a'+i)))
	}
	if _, err := svc.Place(ctx, req); !errors.Is(err, errs.InsufficientSpace) {
		t.Fatalf("13 instances of 512 MiB on 2 × 3 072 MiB: %v", err)
	}
	req.InstanceIDs = req.InstanceIDs[:12]
	if _, err := svc.Place(ctx, req); err != nil {
		t.Fatalf("12 instances of 512 MiB: %v", err)
	}
	svc.CheckHealth()
	if h, _ := svc.Get(ctx, "sim1"); h.Health != hosts.HealthUp || h.Instances != 6 {
		t.Fatalf("sim1 after a probe: %+v", h)
	}
}
