package libvirt

import (
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"testing"
	"time"
)

// listen stands in for QEMU's end of a channel: a unix socket server that
// handles one connection with serve.
func listen(t *testing.T, serve func(*net.UnixConn)) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "org.kumo.identity")
	l, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.AcceptUnix()
		if err != nil {
			return
		}
		defer c.Close()
		serve(c)
	}()
	return path
}

// QEMU reads until the end of file and then hangs up, which is when the
// data is in the guest.
func TestWriteSocketWaitsForTheReader(t *testing.T) {
	got := make(chan []byte, 1)
	path := listen(t, func(c *net.UnixConn) {
		time.Sleep(100 * time.Millisecond) // a guest slow to read
		b, _ := io.ReadAll(c)
		got <- b
	})
	start := time.Now()
	if err := writeSocket(context.Background(), path, []byte("kumo.id=i-1\n")); err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took < 100*time.Millisecond {
		t.Errorf("writeSocket returned after %s, before the reader read", took)
	}
	if b := <-got; string(b) != "kumo.id=i-1\n" {
		t.Fatalf("reader got %q", b)
	}
}

func TestWriteSocketHonoursContext(t *testing.T) {
	path := listen(t, func(c *net.UnixConn) { time.Sleep(time.Hour) })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := writeSocket(ctx, path, []byte("nobody reads this\n"))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("writeSocket = %v, want a deadline error", err)
	}
	if took := time.Since(start); took > 2*time.Second {
		t.Fatalf("writeSocket took %s with a 200ms context", took)
	}
}

// A reader that hangs up without reading (QEMU going away) must not count
// as delivery: Linux tells the writer with ECONNRESET.
func TestWriteSocketReportsUnreadData(t *testing.T) {
	path := listen(t, func(c *net.UnixConn) { time.Sleep(100 * time.Millisecond) })
	if err := writeSocket(context.Background(), path, []byte("lost\n")); err == nil {
		t.Fatal("writeSocket succeeded though nothing read the data")
	}
}
