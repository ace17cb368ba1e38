package libvirt

import (
	"context"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

var _ hypervisor.SerialConsole = (*Driver)(nil)

const (
	// consoleBuffer bounds what a console holds for its reader. A guest
	// printing faster than the reader takes it loses the excess: waiting
	// would stall libvirt's event loop, which every connection shares.
	consoleBuffer = 1 << 20
	// consoleWriteTimeout bounds a write the guest does not take, as when
	// QEMU stops reading its pty.
	consoleWriteTimeout = 5 * time.Second
	// consoleWriteRetry is how long a write waits when the stream is full.
	consoleWriteRetry = 5 * time.Millisecond
)

// OpenConsole attaches a non-blocking libvirt stream to the domain's
// serial console. Reading is driven by libvirt's event loop: a blocking
// stream would hold the connection's lock for as long as the guest stays
// silent, and every other call on the connection would wait behind it.
func (d *Driver) OpenConsole(ctx context.Context, name string) (io.ReadWriteCloser, error) {
	var c *console
	err := d.with(ctx, "open console", name, func(dom *lv.Domain) error {
		if st, err := state(dom); err != nil {
			return mapError("open console", name, err)
		} else if st != hypervisor.PowerRunning && st != hypervisor.PowerPaused {
			return fmt.Errorf("libvirt: open console of %q: domain is %s: %w", name, st, hypervisor.ErrInvalidState)
		}
		stream, err := d.conn.NewStream(lv.STREAM_NONBLOCK)
		if err != nil {
			return mapError("open console", name, err)
		}
		// kumod shares one console per domain among its viewers. FORCE
		// takes it from a connection left attached, such as a kumod that
		// died before libvirt noticed.
		if err := dom.OpenConsole("", stream, lv.DOMAIN_CONSOLE_FORCE); err != nil {
			stream.Free()
			return mapError("open console", name, err)
		}
		c = &console{stream: stream, ready: make(chan struct{}, 1)}
		events := lv.STREAM_EVENT_READABLE | lv.STREAM_EVENT_ERROR | lv.STREAM_EVENT_HANGUP
		if err := stream.EventAddCallback(events, c.onEvent); err != nil {
			stream.Abort()
			stream.Free()
			return mapError("open console", name, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return c, nil
}

// console is one libvirt console stream as an io.ReadWriteCloser for a
// single reader.
type console struct {
	stream *lv.Stream

	mu     sync.Mutex // guards everything below, and the stream's reads
	buf    []byte
	err    error // why reads end: io.EOF once the guest's side closed
	closed bool
	ready  chan struct{} // one pending wake-up for the reader
}

// onEvent runs on libvirt's event loop and must not block.
func (c *console) onEvent(_ *lv.Stream, events lv.StreamEventType) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.err != nil {
		return
	}
	var chunk [4096]byte
	for c.err == nil {
		n, err := c.stream.Recv(chunk[:])
		if err != nil {
			c.err = err
			break
		}
		if n < 0 { // nothing more for now
			break
		}
		if room := consoleBuffer - len(c.buf); room > 0 {
			c.buf = append(c.buf, chunk[:min(n, room)]...)
		}
	}
	if c.err == nil && events&(lv.STREAM_EVENT_ERROR|lv.STREAM_EVENT_HANGUP) != 0 {
		c.err = io.EOF
	}
	if c.err != nil {
		// An ended stream stays readable-or-hung-up for ever; the loop
		// must stop calling.
		c.stream.EventRemoveCallback()
	}
	c.wake()
}

func (c *console) wake() {
	select {
	case c.ready <- struct{}{}:
	default:
	}
}

func (c *console) Read(p []byte) (int, error) {
	for {
		c.mu.Lock()
		switch {
		case c.closed:
			c.mu.Unlock()
			return 0, net.ErrClosed
		case len(c.buf) > 0:
			n := copy(p, c.buf)
			c.buf = append(c.buf[:0], c.buf[n:]...)
			c.mu.Unlock()
			return n, nil
		case c.err != nil:
			err := c.err
			c.mu.Unlock()
			return 0, err
		}
		c.mu.Unlock()
		<-c.ready
	}
}

func (c *console) Write(p []byte) (int, error) {
	deadline := time.Now().Add(consoleWriteTimeout)
	written := 0
	for written < len(p) {
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return written, net.ErrClosed
		}
		n, err := c.stream.Send(p[written:])
		c.mu.Unlock()
		switch {
		case err != nil:
			return written, fmt.Errorf("libvirt: console write: %w", err)
		case n > 0:
			written += n
		case time.Now().After(deadline):
			return written, fmt.Errorf("libvirt: console write: the guest took nothing for %s", consoleWriteTimeout)
		default:
			time.Sleep(consoleWriteRetry)
		}
	}
	return written, nil
}

// Close detaches from the console. The flag is set first, under the lock,
// so that an event already on its way finds the console closed and leaves
// the stream alone while it is freed.
func (c *console) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return nil
	}
	c.closed = true
	ended := c.err != nil
	c.mu.Unlock()
	c.wake()
	if !ended {
		c.stream.EventRemoveCallback()
	}
	c.stream.Abort()
	return c.stream.Free()
}
