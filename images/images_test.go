package images

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/store"
)

func newService(t *testing.T) (*Service, *clock.Fake) {
	t.Helper()
	dir := t.TempDir()
	st, err := store.Open(context.Background(), filepath.Join(dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(time.Now())
	s, err := New(st, filepath.Join(dir, "images"), clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	return s, clk
}

func TestBlobIsContentAddressedAndReadOnly(t *testing.T) {
	s, _ := newService(t)
	data := []byte("a kernel, say")
	d, n, err := s.Upload(bytes.NewReader(data), 1024)
	sum := sha256.Sum256(data)
	if err != nil || n != int64(len(data)) || d != "sha256:"+hex.EncodeToString(sum[:]) {
		t.Fatalf("Upload = %s %d %v", d, n, err)
	}
	fi, err := os.Stat(s.Blobs().Path(d))
	if err != nil || fi.Mode().Perm() != 0o444 {
		t.Fatalf("blob file: %v %v", fi, err)
	}
	if _, _, err := s.Upload(bytes.NewReader(make([]byte, 2000)), 1024); !errors.Is(err, errs.LimitExceeded) {
		t.Fatalf("over the limit: %v", err)
	}
	if _, _, err := s.Upload(bytes.NewReader(nil), 1024); !errors.Is(err, errs.InvalidParameter) {
		t.Fatalf("empty: %v", err)
	}
	entries, _ := os.ReadDir(filepath.Dir(s.Blobs().Path(d)))
	if len(entries) != 1 {
		t.Fatalf("failed uploads left files: %d entries", len(entries))
	}
}

func TestSweepKeepsRecentAndLiveBlobs(t *testing.T) {
	s, clk := newService(t)
	ctx := context.Background()
	kernel := make([]byte, 1024)
	copy(kernel[0x202:], "HdrS")
	live, _, _ := s.Upload(bytes.NewReader(kernel), 1<<20)
	stray, _, _ := s.Upload(bytes.NewReader([]byte("never registered")), 1<<20)
	if _, err := s.Register(ctx, RegisterRequest{Name: "kernel", Kernel: live}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Sweep(ctx); n != 0 {
		t.Fatalf("swept %d fresh blobs", n)
	}
	clk.Advance(SweepGrace + time.Minute)
	if n, _ := s.Sweep(ctx); n != 1 || s.Blobs().Has(stray) || !s.Blobs().Has(live) {
		t.Fatalf("sweep removed %d; stray kept %v, live kept %v", n, s.Blobs().Has(stray), s.Blobs().Has(live))
	}
}

func qemuImg(t *testing.T, args ...string) {
	t.Helper()
	if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img %v: %v %s", args, err, out)
	}
}

func TestRegisterRefusesDisksThatReachOtherFiles(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	dir := t.TempDir()
	qemuImg(t, "create", "-q", "-f", "qcow2", filepath.Join(dir, "base.qcow2"), "1M")
	qemuImg(t, "create", "-q", "-f", "qcow2", "-b", "/etc/passwd", "-F", "raw", filepath.Join(dir, "backed.qcow2"))
	qemuImg(t, "create", "-q", "-f", "qcow2", "-o", "data_file="+filepath.Join(dir, "data.raw"), filepath.Join(dir, "datafile.qcow2"), "1M")
	upload := func(name string) string {
		f, _ := os.Open(filepath.Join(dir, name))
		defer f.Close()
		d, _, err := s.Upload(f, 1<<30)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for _, tc := range []struct {
		name, file, format string
		ok                 bool
	}{
		{"plain qcow2", "base.qcow2", "qcow2", true},
		{"backing file", "backed.qcow2", "qcow2", false},
		{"external data file", "datafile.qcow2", "qcow2", false},
		{"qcow2 declared raw is taken as raw bytes", "backed.qcow2", "raw", true},
		{"unsupported format", "base.qcow2", "vmdk", false},
		{"no format", "base.qcow2", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Register(ctx, RegisterRequest{Name: "disk " + tc.name, Disk: upload(tc.file), DiskFormat: tc.format})
			if (err == nil) != tc.ok {
				t.Fatalf("err = %v, want ok=%v", err, tc.ok)
			}
		})
	}
}

func TestRegisterValidation(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	notKernel, _, _ := s.Upload(bytes.NewReader(make([]byte, 1024)), 1<<20)
	for _, tc := range []struct {
		name string
		req  RegisterRequest
		kind error
	}{
		{"no name", RegisterRequest{Kernel: notKernel}, errs.MissingParameter},
		{"bad name", RegisterRequest{Name: "a\x00b", Kernel: notKernel}, errs.InvalidParameter},
		{"nothing to boot", RegisterRequest{Name: "empty"}, errs.MissingParameter},
		{"initrd alone", RegisterRequest{Name: "x", Initrd: notKernel, Disk: notKernel, DiskFormat: "raw"}, errs.InvalidParameter},
		{"path for a digest", RegisterRequest{Name: "x", Kernel: "../../vmlinuz"}, errs.InvalidParameter},
		{"not a kernel", RegisterRequest{Name: "x", Kernel: notKernel}, errs.InvalidParameter},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := s.Register(ctx, tc.req); !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
		})
	}
}

func TestKernelFormats(t *testing.T) {
	dir := t.TempDir()
	bz := make([]byte, 1024)
	copy(bz[0x202:], "HdrS")
	os.WriteFile(filepath.Join(dir, "bzImage"), bz, 0o644)
	self, _ := os.Executable() // an x86-64 ELF, but without a PVH entry
	exe, _ := os.ReadFile(self)
	os.WriteFile(filepath.Join(dir, "elf"), exe, 0o644)
	os.WriteFile(filepath.Join(dir, "text"), []byte("not a kernel at all, just some text padding it out"), 0o644)
	for name, ok := range map[string]bool{"bzImage": true, "elf": false, "text": false} {
		if err := checkKernel(filepath.Join(dir, name)); (err == nil) != ok {
			t.Errorf("%s: err = %v, want ok=%v", name, err, ok)
		}
	}
}
