package loadbalancer

import (
	"context"
	"net"
	"net/netip"
	"sync/atomic"
	"time"

	"kumo/internal/netns"
)

// Target is a place connections go: an instance's address, or any
// address:port (an "ip" target).
type Target struct {
	ID   string // instance id, or "address:port"
	Addr netip.Addr
	// Port overrides the listeners' target port; address targets set it.
	Port int
	// Netns is the network namespace the target is reached from: sockets
	// to it are created there. Empty means kumod's own namespace, which is
	// right only for loopback targets.
	Netns string
	// Unused, when not empty, says why the target cannot take traffic
	// (its instance is stopped, say): it stays registered, out of rotation
	// and unchecked.
	Unused string
}

// target is a registered Target with its live state.
type target struct {
	Target

	// Guarded by the balancer's mu.
	health     healthState
	reason     string
	detail     string
	stopped    chan struct{} // closed when the target is removed
	wake       chan struct{} // asks its health checks to run now
	drainUntil time.Time
	draining   atomic.Bool // read by connections as they end

	active        atomic.Int64
	total         atomic.Int64
	connectErrors atomic.Int64
	bytesIn       atomic.Int64
	bytesOut      atomic.Int64
	healthChanges atomic.Int64
	rate          rateMeter
}

// addrFor returns where a connection for a listener with targetPort goes.
func (t *target) addrFor(targetPort int) netip.AddrPort {
	if t.Port != 0 {
		targetPort = t.Port
	}
	return netip.AddrPortFrom(t.Addr, uint16(targetPort))
}

var rootDialer = net.Dialer{KeepAlive: -1}

// dial opens a Go connection to the target, for health checks.
func (t *target) dial(timeout time.Duration, addr netip.AddrPort) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	if t.Netns != "" {
		return netns.Dialer(t.Netns)(ctx, "tcp", addr.String())
	}
	return rootDialer.DialContext(ctx, "tcp", addr.String())
}
