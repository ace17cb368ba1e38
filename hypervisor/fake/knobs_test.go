package fake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"kumo/hypervisor"
	"kumo/hypervisor/fake"
)

func defined(t *testing.T, d *fake.Driver, name string) {
	t.Helper()
	spec := hypervisor.Spec{Name: name, VCPUs: 1, MemoryMiB: 128,
		NICs: []hypervisor.NIC{{MAC: "52:54:00:00:00:01", Network: "kumo"}}}
	if err := d.Define(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
}

func TestFailNext(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	defined(t, d, "i-1")
	boom := errors.New("boom")
	d.FailNext("start", boom)
	d.FailNext("start", boom)
	for i := 0; i < 2; i++ {
		if err := d.Start(ctx, "i-1"); !errors.Is(err, boom) {
			t.Fatalf("Start #%d = %v, want boom", i, err)
		}
	}
	if dom, _ := d.Inspect(ctx, "i-1"); dom.State != hypervisor.PowerShutoff {
		t.Fatalf("a failed Start changed the state to %s", dom.State)
	}
	if err := d.Start(ctx, "i-1"); err != nil {
		t.Fatalf("Start after the injected failures: %v", err)
	}
	d.FailNext("list", boom)
	if _, err := d.List(ctx); !errors.Is(err, boom) {
		t.Fatalf("List = %v, want boom", err)
	}
}

func TestFailNextUnknownOpPanics(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Fatal("FailNext of an unknown op did not panic")
		}
	}()
	fake.New(fake.Options{}).FailNext("strat", errors.New("typo"))
}

func TestCrash(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := fake.New(fake.Options{})
	defined(t, d, "i-1")
	if err := d.Crash("i-1"); !errors.Is(err, hypervisor.ErrInvalidState) {
		t.Fatalf("Crash of a stopped domain = %v, want ErrInvalidState", err)
	}
	if err := d.Start(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	events, _ := d.Events(ctx)
	if err := d.Crash("i-1"); err != nil {
		t.Fatal(err)
	}
	if dom, _ := d.Inspect(ctx, "i-1"); dom.State != hypervisor.PowerShutoff {
		t.Fatalf("state after Crash = %s, want shutoff", dom.State)
	}
	for _, want := range []hypervisor.EventKind{hypervisor.EventCrashed, hypervisor.EventStopped} {
		if ev := <-events; ev.Kind != want || ev.Name != "i-1" {
			t.Fatalf("event %+v, want %s of i-1", ev, want)
		}
	}
}

func TestIgnoreShutdown(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	defined(t, d, "i-1")
	d.SetIgnoreShutdown("i-1", true)
	if err := d.Start(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if err := d.Shutdown(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if dom, _ := d.Inspect(ctx, "i-1"); dom.State != hypervisor.PowerRunning {
		t.Fatalf("state after an ignored Shutdown = %s, want running", dom.State)
	}
	d.SetIgnoreShutdown("i-1", false)
	if err := d.Shutdown(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if dom, _ := d.Inspect(ctx, "i-1"); dom.State != hypervisor.PowerShutoff {
		t.Fatalf("state after Shutdown = %s, want shutoff", dom.State)
	}
}

func TestStartNeedsNetwork(t *testing.T) {
	d := fake.New(fake.Options{Networks: []hypervisor.Network{{Name: "other", CIDR: "10.0.0.0/24", Gateway: "10.0.0.1"}}})
	defined(t, d, "i-1")
	if err := d.Start(context.Background(), "i-1"); err == nil {
		t.Fatal("Start with a NIC on a missing network succeeded")
	}
}

func TestSlowSubscriberDoesNotBlock(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{EventBuffer: 1})
	if _, err := d.Events(ctx); err != nil {
		t.Fatal(err)
	}
	defined(t, d, "i-1")
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < 100; i++ {
			_ = d.Start(ctx, "i-1")
			_ = d.Destroy(ctx, "i-1")
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("driver blocked on a subscriber that never reads")
	}
}

func TestCloseEndsSubscriptions(t *testing.T) {
	d := fake.New(fake.Options{})
	events, err := d.Events(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, ok := <-events; ok {
		t.Fatal("event channel open after Close")
	}
	if _, err := d.List(context.Background()); err == nil {
		t.Fatal("List after Close succeeded")
	}
}

func TestSpecIsACopy(t *testing.T) {
	d := fake.New(fake.Options{})
	spec := hypervisor.Spec{Name: "i-1", Disks: []hypervisor.Disk{{Path: "/a", Format: hypervisor.FormatRaw}}}
	if err := d.Define(context.Background(), spec); err != nil {
		t.Fatal(err)
	}
	spec.Disks[0].Path = "/changed"
	got, ok := d.Spec("i-1")
	if !ok || got.Disks[0].Path != "/a" {
		t.Fatalf("Spec = %+v, %v; want the disks as defined", got, ok)
	}
}

func TestDefaults(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	h, _ := d.Host(ctx)
	want := hypervisor.HostInfo{Hostname: "fake", Arch: "x86_64", CPUs: 2, MemoryMiB: 4096, Accel: hypervisor.AccelTCG}
	if h != want {
		t.Fatalf("Host = %+v, want %+v", h, want)
	}
	n, err := d.Network(ctx, "kumo")
	if err != nil || n.CIDR != "10.77.0.0/24" || n.Gateway != "10.77.0.1" {
		t.Fatalf("Network(kumo) = %+v, %v", n, err)
	}
}
