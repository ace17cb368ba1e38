package tiny

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// testCacheDir is where tests keep the built image, so that a second run
// of the tests reuses it: $KUMO_IMAGE_CACHE if set, else the user cache.
func testCacheDir(t *testing.T) string {
	if d := os.Getenv("KUMO_IMAGE_CACHE"); d != "" {
		return filepath.Join(d, "tiny")
	}
	d, err := os.UserCacheDir()
	if err != nil {
		t.Fatalf("no cache folder: %v (set KUMO_IMAGE_CACHE)", err)
	}
	return filepath.Join(d, "kumo-test", "tiny")
}

var (
	imageOnce sync.Once
	imageArt  Artifacts
	imageErr  error
	imageLog  string
	imageTook time.Duration
)

// testImage builds the real image once per test binary.
func testImage(t *testing.T) Artifacts {
	t.Helper()
	imageOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		var log strings.Builder
		start := time.Now()
		imageArt, imageErr = Build(ctx, testCacheDir(t), &log)
		imageTook = time.Since(start)
		imageLog = log.String()
	})
	t.Logf("Build took %s:\n%s", imageTook.Round(time.Millisecond), imageLog)
	if imageErr != nil {
		t.Fatalf("Build: %v", imageErr)
	}
	return imageArt
}

func TestBuildRealImage(t *testing.T) {
	a := testImage(t)
	for _, p := range []string{a.Kernel, a.Initrd, a.Disk} {
		if st, err := os.Stat(p); err != nil || st.Size() == 0 {
			t.Errorf("%s: %v", p, err)
		}
	}
	// Debian's cloud kernel has a PVH entry, so it is handed out unpacked.
	if filepath.Base(a.Kernel) != kernelFile {
		t.Errorf("kernel is %s, want the unpacked %s", a.Kernel, kernelFile)
	}
	// A second build with nothing changed must not redo anything.
	start := time.Now()
	var log strings.Builder
	again, err := Build(context.Background(), filepath.Dir(a.Kernel), &log)
	if err != nil {
		t.Fatal(err)
	}
	took := time.Since(start)
	t.Logf("cached Build took %s: %s", took.Round(time.Millisecond), strings.TrimSpace(log.String()))
	if again != a {
		t.Errorf("second build gave %+v, first %+v", again, a)
	}
	if !strings.Contains(log.String(), "up to date") {
		t.Errorf("second build was not skipped: %s", log.String())
	}
}
