package instances

import (
	"context"
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"kumo/hypervisor"
	"kumo/store"
)

// TestReconcileAfterCrash leaves the store and the host as a crash at
// various moments would, then restarts the service and checks that every
// half-done operation is finished and every orphan removed.
func TestReconcileAfterCrash(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	running := e.run(2)
	for _, in := range running {
		e.waitState(in.ID, Running)
	}
	e.svc.Close()

	// Crashed after recording a terminate, before touching the domain.
	mid := running[0].ID
	if err := e.store.SetInstanceState(ctx, mid, "running", "shutting-down", "", e.clock.Now()); err != nil {
		t.Fatal(err)
	}
	// Crashed right after recording a launch.
	pool := store.Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24"), Reserved: []netip.Addr{netip.MustParseAddr("10.77.0.1")}}
	rows, err := e.store.CreateInstances(ctx, store.Launch{Pool: pool, Instances: []store.Instance{{
		ID: "i-0000000000000abcd", ImageID: e.imageID, Type: "t2.nano", State: "pending", Host: "local",
		MAC: "52:54:00:aa:bb:cc", LaunchedAt: e.clock.Now(), UpdatedAt: e.clock.Now(),
	}}})
	if err != nil {
		t.Fatal(err)
	}
	pending := rows[0].ID
	// A guest that powered off while kumod was down.
	off := running[1].ID
	e.driver.Crash(off)
	// Crashed after defining a domain and making disks, before the record.
	orphan := "i-00000000000000042"
	if err := e.driver.Define(ctx, hypervisor.Spec{Name: orphan, VCPUs: 1, MemoryMiB: 128, Metadata: e.svc.domainMetadata()}); err != nil {
		t.Fatal(err)
	}
	e.driver.Start(ctx, orphan)
	os.MkdirAll(filepath.Join(e.dir, "instances", orphan), 0o755)
	// Domains this control plane does not own must be left alone: another
	// program's, and another kumo's on the same host.
	e.driver.Define(ctx, hypervisor.Spec{Name: "someone-elses-vm", VCPUs: 1, MemoryMiB: 128})
	neighbour := "i-00000000000000043"
	e.driver.Define(ctx, hypervisor.Spec{Name: neighbour, VCPUs: 1, MemoryMiB: 128, Metadata: "kumo-instance owner=0123456789abcdef"})

	e.open()

	if got := e.waitState(mid, Terminated); got.PrivateIP != "" {
		t.Errorf("terminated instance keeps %s", got.PrivateIP)
	}
	if _, err := e.driver.Inspect(ctx, mid); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Errorf("half-terminated domain left: %v", err)
	}
	e.waitState(pending, Running)
	e.waitState(off, Stopped)
	if _, err := e.driver.Inspect(ctx, orphan); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Errorf("orphan domain left: %v", err)
	}
	if _, err := os.Stat(filepath.Join(e.dir, "instances", orphan)); !os.IsNotExist(err) {
		t.Errorf("orphan disks left")
	}
	for _, name := range []string{"someone-elses-vm", neighbour} {
		if _, err := e.driver.Inspect(ctx, name); err != nil {
			t.Errorf("foreign domain %s was touched: %v", name, err)
		}
	}
}

func TestResyncPurgesOldTerminated(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	e.svc.Terminate(ctx, []string{id})
	e.waitState(id, Terminated)
	e.svc.Resync(ctx)
	if _, err := e.store.Instance(ctx, id); err != nil {
		t.Fatalf("purged before retention: %v", err)
	}
	e.clock.Advance(e.svc.cfg.Retention + 1)
	e.svc.Resync(ctx)
	if _, err := e.store.Instance(ctx, id); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("not purged after retention: %v", err)
	}
}
