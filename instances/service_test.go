package instances

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"kumo/hypervisor"
	"kumo/images"
	"kumo/internal/errs"
)

func TestRunLaunchesAndAddresses(t *testing.T) {
	e := newEnv(t)
	out := e.run(2)
	if len(out) != 2 || out[0].State != Pending {
		t.Fatalf("run returned %+v", out)
	}
	seen := map[string]bool{}
	for _, in := range out {
		got := e.waitState(in.ID, Running)
		if got.PrivateIP == "" || seen[got.PrivateIP] || got.StartedAt.IsZero() {
			t.Fatalf("instance %s: ip %q (seen %v), started %v", in.ID, got.PrivateIP, seen, got.StartedAt)
		}
		seen[got.PrivateIP] = true
		sp, ok := e.driver.Spec(in.ID)
		if !ok {
			t.Fatalf("no domain for %s", in.ID)
		}
		for _, want := range []string{"console=ttyS0", "kumo.id=" + in.ID, "kumo.ip=" + got.PrivateIP + "/24", "kumo.gw=10.77.0.1"} {
			if !strings.Contains(sp.Cmdline, want) {
				t.Errorf("cmdline %q lacks %q", sp.Cmdline, want)
			}
		}
		if len(sp.Disks) != 2 || sp.Disks[0].Format != hypervisor.FormatQCOW2 || !sp.Disks[1].ReadOnly {
			t.Errorf("disks = %+v", sp.Disks)
		}
		if sp.VCPUs != 1 || sp.MemoryMiB != 1024 {
			t.Errorf("t2.micro got %d vCPU %d MiB", sp.VCPUs, sp.MemoryMiB)
		}
		if _, err := os.Stat(sp.Disks[0].Path); err != nil {
			t.Errorf("root disk missing: %v", err)
		}
	}
}

func TestStopStartRebootTerminate(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.run(1)[0].ID
	e.waitState(id, Running)

	ch, err := e.svc.Stop(ctx, []string{id}, false)
	if err != nil || ch[0].Previous != Running || ch[0].Current != Stopping {
		t.Fatalf("stop: %+v %v", ch, err)
	}
	e.waitState(id, Stopped)
	var ise *IncorrectStateError
	if _, err := e.svc.Reboot(ctx, []string{id}); !errors.As(err, &ise) {
		t.Fatalf("reboot of stopped: %v, want IncorrectStateError", err)
	}
	if _, err := e.svc.Start(ctx, []string{id}); err != nil {
		t.Fatal(err)
	}
	e.waitState(id, Running)
	if ch, err := e.svc.Reboot(ctx, []string{id}); err != nil || ch[0].Current != Running {
		t.Fatalf("reboot: %+v %v", ch, err)
	}
	if _, err := e.svc.Terminate(ctx, []string{id}); err != nil {
		t.Fatal(err)
	}
	got := e.waitState(id, Terminated)
	if got.PrivateIP != "" {
		t.Errorf("terminated instance keeps address %s", got.PrivateIP)
	}
	if _, err := e.driver.Inspect(ctx, id); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Errorf("domain left behind: %v", err)
	}
	if _, err := os.Stat(e.svc.disks.folder(id)); !os.IsNotExist(err) {
		t.Errorf("disks left behind: %v", err)
	}
	if ch, err := e.svc.Terminate(ctx, []string{id}); err != nil || ch[0].Current != Terminated {
		t.Fatalf("terminate twice: %+v %v", ch, err)
	}
	if _, err := e.svc.Start(ctx, []string{id}); !errors.As(err, &ise) {
		t.Fatalf("start of terminated: %v", err)
	}
}

func TestStopForcesGuestThatIgnoresACPI(t *testing.T) {
	e := newEnv(t)
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	e.driver.SetIgnoreShutdown(id, true)
	if _, err := e.svc.Stop(context.Background(), []string{id}, false); err != nil {
		t.Fatal(err)
	}
	// The guest ignores the request: it stays stopping until the timeout.
	for i := 0; i < 20; i++ {
		e.clock.Advance(pollInterval)
		time.Sleep(2 * time.Millisecond)
	}
	if in, _ := e.store.Instance(context.Background(), id); State(in.State) != Stopping {
		t.Fatalf("state %s before the stop timeout, want stopping", in.State)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		e.clock.Advance(time.Second)
		if in, _ := e.store.Instance(context.Background(), id); State(in.State) == Stopped {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("guest was never forced off")
		}
		time.Sleep(time.Millisecond)
	}
}

func TestForcedStopSkipsACPI(t *testing.T) {
	e := newEnv(t)
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	e.driver.SetIgnoreShutdown(id, true)
	if _, err := e.svc.Stop(context.Background(), []string{id}, true); err != nil {
		t.Fatal(err)
	}
	e.waitState(id, Stopped)
}

func TestFailedLaunchCleansUp(t *testing.T) {
	e := newEnv(t)
	e.driver.FailNext("start", errors.New("qemu: could not open disk"))
	id := e.run(1)[0].ID
	got := e.waitState(id, Terminated)
	if !strings.Contains(got.StateReason, "Server.InternalError: start-domain failed") {
		t.Errorf("reason = %q", got.StateReason)
	}
	if _, err := e.driver.Inspect(context.Background(), id); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Errorf("domain left behind: %v", err)
	}
	if _, err := os.Stat(e.svc.disks.folder(id)); !os.IsNotExist(err) {
		t.Errorf("disks left behind")
	}
}

func TestFailedRestartKeepsDisks(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	e.svc.Stop(ctx, []string{id}, false)
	e.waitState(id, Stopped)
	e.driver.FailNext("start", errors.New("no memory"))
	e.svc.Start(ctx, []string{id})
	// pending -> stopped again; wait until the failed start is recorded.
	deadline := time.Now().Add(5 * time.Second)
	for {
		in, _ := e.store.Instance(ctx, id)
		if State(in.State) == Stopped && strings.Contains(in.StateReason, "no memory") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("state %s reason %q", in.State, in.StateReason)
		}
		time.Sleep(5 * time.Millisecond)
	}
	if _, err := os.Stat(e.svc.disks.root(id)); err != nil {
		t.Fatalf("a failed restart lost the disk: %v", err)
	}
}

func TestGuestPowerOffIsNoticed(t *testing.T) {
	e := newEnv(t)
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	if err := e.driver.Crash(id); err != nil {
		t.Fatal(err)
	}
	got := e.waitState(id, Stopped)
	if !strings.Contains(got.StateReason, "InstanceInitiatedShutdown") {
		t.Errorf("reason = %q", got.StateReason)
	}
}

func TestRunValidation(t *testing.T) {
	e := newEnv(t)
	base := RunRequest{Image: e.imageID, Type: "t2.micro", MinCount: 1, MaxCount: 1}
	for _, tc := range []struct {
		name string
		edit func(*RunRequest)
		kind error
	}{
		{"unknown image", func(r *RunRequest) { r.Image = "ami-00000000000000000" }, images.ErrNotFound},
		{"malformed image", func(r *RunRequest) { r.Image = "ami-zz" }, images.ErrMalformed},
		{"unknown image name", func(r *RunRequest) { r.Image = "../../etc/passwd" }, images.ErrNotFound},
		{"unknown type", func(r *RunRequest) { r.Type = "t9.huge" }, errs.InvalidParameter},
		{"missing type", func(r *RunRequest) { r.Type = "" }, errs.MissingParameter},
		{"count 0", func(r *RunRequest) { r.MinCount, r.MaxCount = 0, 0 }, errs.InvalidParameter},
		{"count 10000", func(r *RunRequest) { r.MinCount, r.MaxCount = 10000, 10000 }, errs.InstanceLimit},
		{"min above max", func(r *RunRequest) { r.MinCount, r.MaxCount = 3, 2 }, errs.InvalidParameter},
		{"user data too big", func(r *RunRequest) { r.UserData = make([]byte, MaxUserData+1) }, errs.InvalidParameter},
		{"control chars in name", func(r *RunRequest) { r.Name = "a\nb" }, errs.InvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := base
			tc.edit(&req)
			_, err := e.svc.Run(context.Background(), req)
			if !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want kind %v", err, tc.kind)
			}
		})
	}
	all, _ := e.svc.List(context.Background(), nil)
	if len(all) != 0 {
		t.Fatalf("rejected launches left %d instances", len(all))
	}
	if _, err := e.svc.Run(context.Background(), RunRequest{Image: e.imageID, Type: "t2.nano", MinCount: 1, MaxCount: 10000}); err != nil {
		t.Fatalf("MaxCount above the limit with MinCount 1 must launch what fits: %v", err)
	}
}

func TestMalformedAndUnknownIDs(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	if _, err := e.svc.Stop(ctx, []string{"i-nope"}, false); !errors.Is(err, ErrMalformed) {
		t.Fatalf("malformed: %v", err)
	}
	if _, err := e.svc.Terminate(ctx, []string{"i-00000000000000000"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("unknown: %v", err)
	}
	if _, err := e.svc.List(ctx, []string{"i-00000000000000000"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("list unknown: %v", err)
	}
}

func TestCreateImageFromStoppedInstance(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	if _, err := e.svc.CreateImage(ctx, id, ImageRequest{Name: "snap", NoReboot: true}); !errors.Is(err, errs.InvalidParameter) {
		t.Fatalf("image of a running instance without a reboot: %v", err)
	}
	e.svc.Stop(ctx, []string{id}, false)
	e.waitState(id, Stopped)
	im, err := e.svc.CreateImage(ctx, id, ImageRequest{Name: "snap", Description: "saved"})
	if err != nil {
		t.Fatal(err)
	}
	if im.Disk == "" || im.SourceInstance != id || im.Kernel == "" {
		t.Fatalf("image = %+v", im)
	}
	if err := e.images.Deregister(ctx, e.imageID); !errors.Is(err, images.ErrInUse) {
		t.Fatalf("deregister in use: %v", err)
	}
	out, err := e.svc.Run(ctx, RunRequest{Image: "snap", Type: "t2.nano", MinCount: 1, MaxCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.waitState(out[0].ID, Running)
}

func TestCreateImageOfRunningInstanceStopsAndRestartsIt(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	id := e.svc.For("alice")
	out, err := id.Run(ctx, RunRequest{Image: e.imageID, Type: "t2.nano", MinCount: 1, MaxCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	e.waitState(out[0].ID, Running)
	var ise *IncorrectStateError
	if _, err := e.svc.For("bob").CreateImage(ctx, out[0].ID, ImageRequest{Name: "stolen"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another account's instance: %v", err)
	}
	im, err := id.CreateImage(ctx, out[0].ID, ImageRequest{Name: "live"})
	if err != nil {
		t.Fatal(err)
	}
	if im.Owner != "alice" || im.SourceInstance != out[0].ID {
		t.Fatalf("image = %+v", im)
	}
	e.waitState(out[0].ID, Running)
	if _, err := e.svc.For("bob").Run(ctx, RunRequest{Image: im.ID, Type: "t2.nano", MinCount: 1, MaxCount: 1}); !errors.Is(err, images.ErrNotFound) {
		t.Fatalf("bob launching alice's private image: %v", err)
	}
	if _, err := e.svc.For("bob").Run(ctx, RunRequest{Image: "live", Type: "t2.nano", MinCount: 1, MaxCount: 1}); !errors.Is(err, images.ErrNotFound) {
		t.Fatalf("bob launching alice's private image by name: %v", err)
	}
	pending, err := id.Run(ctx, RunRequest{Image: "live", Type: "t2.nano", MinCount: 1, MaxCount: 1})
	if err != nil {
		t.Fatalf("alice launching her image by name: %v", err)
	}
	if _, err := id.CreateImage(ctx, pending[0].ID, ImageRequest{Name: "too-soon"}); !errors.As(err, &ise) {
		t.Fatalf("image of a pending instance: %v", err)
	}
}

// TestStopPressesAgainForAGuestStillBooting: a guest that lost the first
// ACPI press (nothing listened yet) powers off at a later one, well before
// the stop timeout forces it.
func TestStopPressesAgainForAGuestStillBooting(t *testing.T) {
	e := newEnv(t)
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	e.driver.SetIgnoreShutdown(id, true)
	if _, err := e.svc.Stop(context.Background(), []string{id}, false); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 5; i++ {
		e.clock.Advance(pollInterval)
		time.Sleep(2 * time.Millisecond)
	}
	e.driver.SetIgnoreShutdown(id, false) // acpid is up now
	deadline := time.Now().Add(5 * time.Second)
	for waited := time.Duration(0); ; waited += pollInterval {
		if in, _ := e.store.Instance(context.Background(), id); State(in.State) == Stopped {
			// Forced off, it would have taken the stop timeout (10 s).
			if waited > 2*acpiRepeat {
				t.Fatalf("stopped after %s of guest time, want within %s", waited, 2*acpiRepeat)
			}
			if in.StateReason != "Client.UserInitiatedShutdown: User initiated shutdown" {
				t.Fatalf("reason %q", in.StateReason)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the guest never heard a second press")
		}
		e.clock.Advance(pollInterval)
		time.Sleep(2 * time.Millisecond)
	}
}

func TestLaunchDrawsAnotherMACWhenOneIsTaken(t *testing.T) {
	e := newEnv(t)
	first := e.run(1)[0]
	// The next draws hit the first instance's address, then a free one.
	draws := 0
	newMAC = func() string {
		draws++
		if draws <= 3 {
			return first.MAC
		}
		return randomMAC()
	}
	t.Cleanup(func() { newMAC = randomMAC })
	second := e.run(1)[0]
	if second.MAC == first.MAC || draws != 4 {
		t.Fatalf("second launch got MAC %s after %d draws; the first has %s", second.MAC, draws, first.MAC)
	}
}
