package libvirt

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func newTestFeeder(t *testing.T) (*feeder, []byte, []byte) {
	t.Helper()
	head := []byte("HEAD")
	stream := bytes.Repeat([]byte("0123456789abcdef"), 64<<10) // 1 MiB, more than a pipe holds
	src := append(bytes.Repeat([]byte{'-'}, 100), stream...)
	f, err := startFeeder(filepath.Join(t.TempDir(), "fifo"), head, bytes.NewReader(src), 100, int64(len(stream)))
	if err != nil {
		t.Fatal(err)
	}
	return f, head, stream
}

// readFIFO opens the FIFO as libvirt does and reads n bytes, or all.
func readFIFO(t *testing.T, path string, n int) []byte {
	t.Helper()
	r, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if n < 0 {
		b, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(r, b); err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFeederServesFirstOpeningOnly(t *testing.T) {
	f, head, stream := newTestFeeder(t)
	got := readFIFO(t, f.path, -1)
	if want := append(bytes.Clone(head), stream...); !bytes.Equal(got, want) {
		t.Fatalf("reader got %d bytes, want %d", len(got), len(want))
	}
	// Another opening must not block, and must not get a second copy
	// that could mix with the first.
	if got := readFIFO(t, f.path, -1); len(got) != 0 {
		t.Fatalf("second reader got %d bytes", len(got))
	}
	if err := f.finish(); err != nil {
		t.Fatalf("finish after a complete read: %v", err)
	}
	if _, err := os.Stat(f.path); !os.IsNotExist(err) {
		t.Fatalf("FIFO left behind: %v", err)
	}
}

// A reader that leaves early (libvirt failing after the header) ends the
// feed; later readers get end of file rather than the rest of the image.
func TestFeederReaderLeavesEarly(t *testing.T) {
	f, head, _ := newTestFeeder(t)
	if got := readFIFO(t, f.path, len(head)); !bytes.Equal(got, head) {
		t.Fatalf("reader got %q", got)
	}
	deadline := time.Now().Add(5 * time.Second)
	for {
		f.mu.Lock()
		ended := f.aborted
		f.mu.Unlock()
		if ended {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("feeder did not notice the reader leaving")
		}
		time.Sleep(time.Millisecond)
	}
	if got := readFIFO(t, f.path, -1); len(got) != 0 {
		t.Fatalf("later reader got %d bytes", len(got))
	}
	if err := f.finish(); err == nil {
		t.Fatal("finish reports success though the reader left early")
	}
}

// An aborted feeder must make the reader fail, not wait: libvirt would
// otherwise hang in the restore call.
func TestFeederAbortGivesEOF(t *testing.T) {
	f, head, _ := newTestFeeder(t)
	r, err := os.Open(f.path)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := io.ReadFull(r, make([]byte, len(head))); err != nil {
		t.Fatal(err)
	}
	f.abort()
	done := make(chan int64)
	go func() {
		n, _ := io.Copy(io.Discard, r)
		done <- n
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("reader still blocked 5s after abort")
	}
	// A later reader gets nothing at all.
	if got := readFIFO(t, f.path, -1); len(got) != 0 {
		t.Fatalf("reader after abort got %d bytes", len(got))
	}
	if err := f.finish(); err == nil {
		t.Fatal("finish reports success though no reader got the image")
	}
}

func TestFeederFinishWithoutReader(t *testing.T) {
	f, _, _ := newTestFeeder(t)
	done := make(chan error)
	go func() { done <- f.finish() }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("finish blocked without a reader")
	}
}
