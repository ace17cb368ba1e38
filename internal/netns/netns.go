// Package netns opens sockets inside a named network namespace (one made
// with `ip netns add`), so that kumo reaches guest networks from the
// namespace they live in and never from the root namespace.
package netns

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"

	"golang.org/x/sys/unix"
)

// Path returns the file that pins the named namespace.
func Path(name string) string { return filepath.Join("/run/netns", name) }

// Do runs fn on an OS thread switched into the namespace. A socket created
// in fn belongs to that namespace for its whole life, whatever thread uses
// it later.
func Do(name string, fn func() error) error {
	if name == "" || filepath.Base(name) != name {
		return fmt.Errorf("netns: invalid namespace name %q", name)
	}
	target, err := os.Open(Path(name))
	if err != nil {
		return fmt.Errorf("netns %s: %w", name, err)
	}
	defer target.Close()
	errc := make(chan error, 1)
	go func() {
		// The thread is never unlocked: if switching back failed it would
		// return to the scheduler in the wrong namespace, so it exits with
		// the goroutine instead.
		runtime.LockOSThread()
		orig, err := os.Open("/proc/thread-self/ns/net")
		if err != nil {
			errc <- fmt.Errorf("netns: %w", err)
			return
		}
		defer orig.Close()
		if err := unix.Setns(int(target.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netns %s: setns: %w", name, err)
			return
		}
		ferr := fn()
		if err := unix.Setns(int(orig.Fd()), unix.CLONE_NEWNET); err != nil {
			errc <- fmt.Errorf("netns: switch back: %w", err)
			return
		}
		runtime.UnlockOSThread()
		errc <- ferr
	}()
	return <-errc
}

// Dialer returns a DialContext function whose connections are made from
// inside the named namespace, for http.Transport and the like.
func Dialer(name string) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		var c net.Conn
		err := Do(name, func() error {
			var d net.Dialer
			var err error
			c, err = d.DialContext(ctx, network, addr)
			return err
		})
		return c, err
	}
}
