package instances

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"kumo/hypervisor/fake"
	"kumo/images"
	"kumo/internal/clock"
	"kumo/store"
)

// env is a service on a fake host with one registered image.
type env struct {
	t       *testing.T
	dir     string
	store   *store.Store
	driver  *fake.Driver
	images  *images.Service
	clock   *clock.Fake
	svc     *Service
	imageID string
	tune    func(*Config)
}

// newEnv returns a service on a fake host; tune, when given, adjusts its
// configuration.
func newEnv(t *testing.T, tune ...func(*Config)) *env {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e := &env{t: t, dir: dir, store: st, driver: fake.New(fake.Options{}), clock: clock.NewFake(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))}
	if len(tune) > 0 {
		e.tune = tune[0]
	}
	e.images, err = images.New(st, filepath.Join(dir, "images"), e.clock, quietLog())
	if err != nil {
		t.Fatal(err)
	}
	e.imageID = e.registerImage("tiny")
	e.open()
	return e
}

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// open starts a service on the env's store and driver, as kumod does at
// boot; calling it again after closing is a restart.
func (e *env) open() {
	e.t.Helper()
	cfg := Config{DataDir: filepath.Join(e.dir, "instances"), StopTimeout: 10 * time.Second}
	if e.tune != nil {
		e.tune(&cfg)
	}
	e.svc = New(cfg, e.store, e.driver, e.images, e.clock, quietLog())
	if err := e.svc.Open(context.Background()); err != nil {
		e.t.Fatal(err)
	}
	svc := e.svc
	e.t.Cleanup(svc.Close)
}

// registerImage registers a kernel, an initrd and a real qcow2 disk.
func (e *env) registerImage(name string) string {
	e.t.Helper()
	kernel := make([]byte, 1024)
	copy(kernel[0x202:], "HdrS")
	disk := filepath.Join(e.t.TempDir(), "disk.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", disk, "16M").CombinedOutput(); err != nil {
		e.t.Fatalf("qemu-img: %v %s", err, out)
	}
	put := func(b []byte) string {
		d, _, err := e.images.Upload(bytes.NewReader(b), 1<<30)
		if err != nil {
			e.t.Fatal(err)
		}
		return d
	}
	diskBytes, _ := os.ReadFile(disk)
	im, err := e.images.Register(context.Background(), images.RegisterRequest{
		Name: name, Kernel: put(kernel), Initrd: put([]byte("initrd")), Disk: put(diskBytes), DiskFormat: "qcow2",
		Cmdline: "console=ttyS0",
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return im.ID
}

func (e *env) run(n int) []Instance {
	e.t.Helper()
	out, err := e.svc.Run(context.Background(), RunRequest{Image: e.imageID, Type: "t2.micro", MinCount: n, MaxCount: n, UserData: []byte("#!/bin/sh\necho hi\n")})
	if err != nil {
		e.t.Fatal(err)
	}
	return out
}

// waitState polls the store until the instance reaches want. Background
// work runs on goroutines, so the test waits for an outcome, not a time.
func (e *env) waitState(id string, want State) store.Instance {
	e.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		in, err := e.store.Instance(context.Background(), id)
		if err == nil && State(in.State) == want {
			return in
		}
		if time.Now().After(deadline) {
			e.t.Fatalf("instance %s: state %q (err %v), want %q", id, in.State, err, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// pumpClock moves the fake clock forward steadily until the test ends, for
// tests whose background work waits on timers (polls for a guest's port).
func (e *env) pumpClock() {
	done := make(chan struct{})
	e.t.Cleanup(func() { close(done) })
	go func() {
		for {
			select {
			case <-done:
				return
			case <-time.After(time.Millisecond):
				e.clock.Advance(100 * time.Millisecond)
			}
		}
	}()
}

// eventually polls cond until it holds or the test times out.
func (e *env) eventually(what string, cond func() bool) {
	e.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			e.t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
