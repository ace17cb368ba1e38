package fake_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"kumo/hypervisor"
	"kumo/hypervisor/fake"
)

func TestDomainStatsCountPerRun(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	for _, name := range []string{"i-2", "i-1", "off"} {
		spec := channelSpec(name)
		spec.VCPUs = 2
		if err := d.Define(ctx, spec); err != nil {
			t.Fatal(err)
		}
		if name != "off" {
			if err := d.Start(ctx, name); err != nil {
				t.Fatal(err)
			}
		}
	}
	work := hypervisor.DomainStats{Name: "ignored", VCPUs: 9, CPUTime: time.Second, DiskReadBytes: 1, DiskWriteBytes: 2,
		DiskReadOps: 3, DiskWriteOps: 4, NetRxBytes: 5, NetTxBytes: 6}
	for range 2 {
		if err := d.AddStats("i-1", work); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.AddStats("off", work); !errors.Is(err, hypervisor.ErrInvalidState) {
		t.Fatalf("AddStats to a shut-off domain: %v", err)
	}
	got, err := d.DomainStats(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []hypervisor.DomainStats{
		{Name: "i-1", VCPUs: 2, CPUTime: 2 * time.Second, DiskReadBytes: 2, DiskWriteBytes: 4, DiskReadOps: 6, DiskWriteOps: 8, NetRxBytes: 10, NetTxBytes: 12},
		{Name: "i-2", VCPUs: 2},
	}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("DomainStats =\n %+v, want\n %+v", got, want)
	}

	// A new run counts from zero, as a new QEMU process does.
	if err := d.Destroy(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.DomainStats(ctx); len(got) != 1 || got[0].Name != "i-2" {
		t.Fatalf("after destroying i-1: %+v", got)
	}
	if err := d.Start(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if got, _ := d.DomainStats(ctx); len(got) != 2 || got[0] != (hypervisor.DomainStats{Name: "i-1", VCPUs: 2}) {
		t.Fatalf("after restarting i-1: %+v", got)
	}

	boom := errors.New("boom")
	d.FailNext("domain-stats", boom)
	if _, err := d.DomainStats(ctx); !errors.Is(err, boom) {
		t.Fatalf("injected failure: %v", err)
	}
}
