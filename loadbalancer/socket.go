package loadbalancer

import (
	"fmt"
	"net/netip"
	"runtime"

	"golang.org/x/sys/unix"

	"kumo/internal/errs"
	"kumo/internal/netns"
)

// listenBacklog is the queue of connections not yet accepted; the kernel
// caps it at net.core.somaxconn.
const listenBacklog = 4096

// listenSocket binds a non-blocking TCP listening socket. TCP_NODELAY set
// here is inherited by every accepted socket, which saves a system call
// per connection.
func listenSocket(bind netip.Addr, port int) (int, error) {
	ap := netip.AddrPortFrom(bind, uint16(port))
	fd, err := unix.Socket(family(bind), unix.SOCK_STREAM|unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("listen on %s: %w", ap, err)
	}
	err = unix.SetsockoptInt(fd, unix.SOL_SOCKET, unix.SO_REUSEADDR, 1)
	if err == nil {
		err = unix.SetsockoptInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	}
	if err == nil {
		err = unix.Bind(fd, toSockaddr(ap))
	}
	if err == nil {
		err = unix.Listen(fd, listenBacklog)
	}
	if err != nil {
		unix.Close(fd)
		if err == unix.EADDRINUSE {
			return -1, &errs.Error{Kind: ErrPortInUse, Msg: "port " + ap.String() + " is already in use"}
		}
		return -1, fmt.Errorf("listen on %s: %w", ap, err)
	}
	return fd, nil
}

// connect starts a non-blocking connection to a target, from a socket
// created in the target's network namespace.
func (w *worker) connect(t *target, addr netip.AddrPort) (int, error) {
	fd, err := w.socketIn(t.Netns, family(addr.Addr()))
	if err != nil {
		return -1, err
	}
	sysSetInt(fd, unix.IPPROTO_TCP, unix.TCP_NODELAY, 1)
	if err := sysConnect(fd, addr); err != nil && err != unix.EINPROGRESS {
		sysClose(fd)
		return -1, err
	}
	return fd, nil
}

// socketIn creates a socket in the named network namespace ("" for the
// process's own). A socket belongs for life to the namespace it was made
// in, so the thread switches only around the socket call, locked to the
// goroutine meanwhile.
func (w *worker) socketIn(ns string, fam int) (int, error) {
	const flags = unix.SOCK_STREAM | unix.SOCK_NONBLOCK | unix.SOCK_CLOEXEC
	if ns == "" {
		return sysSocket(fam, flags)
	}
	// Opened each time, not cached: a namespace deleted and made again
	// under the same name must not be reached through the old one.
	nsfd, err := unix.Open(netns.Path(ns), unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, fmt.Errorf("network namespace %s: %w", ns, err)
	}
	defer unix.Close(nsfd)
	runtime.LockOSThread()
	if err := unix.Setns(nsfd, unix.CLONE_NEWNET); err != nil {
		runtime.UnlockOSThread()
		return -1, fmt.Errorf("network namespace %s: %w", ns, err)
	}
	fd, serr := unix.Socket(fam, flags, 0)
	if err := unix.Setns(ownNetns, unix.CLONE_NEWNET); err != nil {
		// A thread left in another namespace would carry any goroutine's
		// later sockets there: nothing safe remains but to stop.
		panic(fmt.Sprintf("load balancer: switch back to own network namespace: %v", err))
	}
	runtime.UnlockOSThread()
	return fd, serr
}

func family(a netip.Addr) int {
	if a.Unmap().Is4() {
		return unix.AF_INET
	}
	return unix.AF_INET6
}

func toSockaddr(ap netip.AddrPort) unix.Sockaddr {
	a := ap.Addr().Unmap()
	if a.Is4() {
		return &unix.SockaddrInet4{Port: int(ap.Port()), Addr: a.As4()}
	}
	return &unix.SockaddrInet6{Port: int(ap.Port()), Addr: a.As16()}
}
