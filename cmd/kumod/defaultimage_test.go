package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"kumo/images"
	"kumo/internal/clock"
	"kumo/internal/e2e"
	"kumo/store"
)

func TestDefaultImageFollowsTheBuild(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	im, err := images.New(st, filepath.Join(dir, "images"), clock.Real{}, log)
	if err != nil {
		t.Fatal(err)
	}
	// An older build, registered under the default name and in use.
	bz := make([]byte, 1024)
	copy(bz[0x202:], "HdrS")
	k, _, _ := im.Upload(bytes.NewReader(bz), 1<<20)
	old, err := im.Register(ctx, images.RegisterRequest{Name: DefaultImageName, Kernel: k})
	if err != nil {
		t.Fatal(err)
	}
	pool := store.Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	rows, err := st.CreateInstances(ctx, store.Launch{Pool: pool, Instances: []store.Instance{{ID: "i-0000000000000000a", ImageID: old.ID,
		Type: "t2.nano", State: "running", Host: "local", MAC: "52:54:00:00:00:0a", LaunchedAt: time.Now(), UpdatedAt: time.Now()}}})
	if err != nil {
		t.Fatal(err)
	}
	cache := e2e.ImageCache()
	if err := ensureDefaultImage(ctx, im, cache, log); err != nil {
		t.Fatal(err)
	}
	if got, _ := im.Resolve(ctx, DefaultImageName); got.ID != old.ID {
		t.Fatalf("an image in use was replaced: %s -> %s", old.ID, got.ID)
	}
	if err := st.SetInstanceState(ctx, rows[0].ID, "running", "terminated", "", time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := ensureDefaultImage(ctx, im, cache, log); err != nil {
		t.Fatal(err)
	}
	current, _ := im.Resolve(ctx, DefaultImageName)
	if current.ID == old.ID || current.Disk == "" || current.Initrd == "" {
		t.Fatalf("the unused old build was not replaced: %+v", current)
	}
	if err := ensureDefaultImage(ctx, im, cache, log); err != nil {
		t.Fatal(err)
	}
	if again, _ := im.Resolve(ctx, DefaultImageName); again.ID != current.ID {
		t.Fatalf("an up-to-date default image was replaced: %s -> %s", current.ID, again.ID)
	}
}
