package main

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"kumo/instances"
	"kumo/internal/errs"
)

// TestConcurrentLaunchesNeverOverbookTheHost runs 50 launches at once on a
// host with room for 8 (4 GiB of memory, t2.nano of 512 MiB each): exactly
// 8 launch, the others fail whole with InsufficientInstanceCapacity, and
// stopping, starting and terminating move the claims as EC2 frees and
// takes capacity.
func TestConcurrentLaunchesNeverOverbookTheHost(t *testing.T) {
	ctx := context.Background()
	c := newSimCloud(t, simFleet{Hosts: 1, CPUs: 2, MemoryMiB: 4096})
	svc, st, image := c.svc, c.store, c.image
	local, err := c.fleet.Get(ctx, "node0000")
	if err != nil {
		t.Fatal(err)
	}

	const launches, room = 50, 8
	var mu sync.Mutex
	var ok []string
	refused := 0
	var wg sync.WaitGroup
	for range launches {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := svc.For("alice").Run(ctx, instances.RunRequest{Image: image, Type: "t2.nano", MinCount: 1, MaxCount: 1})
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
	wait(ok[1], instances.Running)
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
	out, err := svc.For("alice").Run(ctx, instances.RunRequest{Image: image, Type: "t2.nano", MinCount: 1, MaxCount: 5})
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
