// Package testkit holds what tests of several packages build the same way:
// a store in a test's own folder, and an image to launch. It is for tests
// only; nothing outside a _test.go file imports it.
package testkit

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"testing"

	"kumo/images"
	"kumo/store"
)

// Store opens a store in a folder of tb's, closed when tb ends, and
// returns the folder for the test's other files.
func Store(tb testing.TB) (*store.Store, string) {
	tb.Helper()
	dir := tb.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "kumo.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st, dir
}

// QuietLog discards what services log.
func QuietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// Image registers an image called name whose kernel is the smallest file
// that passes for a bzImage, and returns it with its kernel's digest.
func Image(tb testing.TB, im *images.Service, req images.RegisterRequest) (store.Image, string) {
	tb.Helper()
	bzImage := make([]byte, 4096)
	copy(bzImage[0x202:], "HdrS")
	kernel, _, err := im.Upload(bytes.NewReader(bzImage), 1<<20)
	if err != nil {
		tb.Fatal(err)
	}
	req.Kernel = kernel
	img, err := im.Register(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	return img, kernel
}
