package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/hypervisor/fake"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/store"
)

// TestConcurrentLaunchesNeverOverbookTheHost runs 50 launches at once on a
// host with room for 8 (4 GiB of memory, t2.nano of 512 MiB each): exactly
// 8 launch, the others fail whole with InsufficientInstanceCapacity, and
// stopping, starting and terminating move the claims as EC2 frees and
// takes capacity.
func TestConcurrentLaunchesNeverOverbookTheHost(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	clk := clock.Real{}
	drv := fake.New(fake.Options{})
	fleet := hosts.New(hosts.Config{}, st, func(string) (hypervisor.Driver, error) { return drv, nil }, clk, log)
	if err := fleet.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer fleet.Close()
	local, err := fleet.Ensure(ctx, hosts.RegisterRequest{Name: localHost, URI: "test:///default", Zone: "local-a"})
	if err != nil {
		t.Fatal(err)
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
	svc := instances.New(instances.Config{DataDir: filepath.Join(dir, "instances"), Host: localHost,
		Capacity: fleetCapacity{fleet: fleet, store: st}}, st, drv, im, clk, log)
	if err := svc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer svc.Close()

	const launches, room = 50, 8
	var mu sync.Mutex
	var ok []string
	refused := 0
	var wg sync.WaitGroup
	for range launches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := svc.For("alice").Run(ctx, instances.RunRequest{Image: image.ID, Type: "t2.nano", MinCount: 1, MaxCount: 1})
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				ok = append(ok, out[0].ID)
			case errors.Is(err, errs.InsufficientSpace):
				refused++
			default:
				t.Errorf("launch: %v", err)
			}
		}()
	}
	wg.Wait()
	used := func() (int64, int) {
		claims, err := st.Claims(ctx, local.ID)
		if err != nil {
			t.Fatal(err)
		}
		var mem int64
		for _, c := range claims {
			mem += c.MemoryMiB
		}
		return mem, len(claims)
	}
	if mem, n := used(); len(ok) != room || refused != launches-room || n != room || mem > 4096 {
		t.Fatalf("%d launched, %d refused, %d claims of %d MiB; want %d launched on 4096 MiB", len(ok), refused, n, mem, room)
	}
	if all, _ := svc.List(ctx, nil); len(all) != room {
		t.Fatalf("a refused launch left instances behind: %d listed", len(all))
	}

	// MaxCount beyond the room launches what fits, MinCount within it.
	wait := func(id string, want instances.State) {
		t.Helper()
		waitFor(t, svc, id, want)
	}
	wait(ok[0], instances.Running)
	if _, err := svc.Stop(ctx, ok[:2], true); err != nil {
		t.Fatal(err)
	}
	wait(ok[0], instances.Stopped)
	wait(ok[1], instances.Stopped)
	// The claim goes just after the state is recorded.
	claimsBecome := func(want int) {
		t.Helper()
		for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
			_, n := used()
			if n == want {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%d claims, want %d", n, want)
			}
		}
	}
	claimsBecome(room - 2)
	out, err := svc.For("alice").Run(ctx, instances.RunRequest{Image: image.ID, Type: "t2.nano", MinCount: 1, MaxCount: 5})
	if err != nil || len(out) != 2 {
		t.Fatalf("MaxCount 5 with room for 2: %d launched, %v", len(out), err)
	}
	if _, err := svc.Start(ctx, ok[:1]); !errors.Is(err, errs.InsufficientSpace) {
		t.Fatalf("starting on a full host: %v", err)
	}
	if _, err := svc.Terminate(ctx, []string{out[0].ID, out[1].ID}); err != nil {
		t.Fatal(err)
	}
	claimsBecome(room - 2)
	if _, err := svc.Start(ctx, ok[:1]); err != nil {
		t.Fatalf("starting once there is room: %v", err)
	}
	claimsBecome(room - 1)
}
