package loadbalancer

import (
	"net/netip"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

// listener is one bound front port, served by every engine worker.
type listener struct {
	b          *Balancer
	front      int
	targetPort atomic.Int32
	fd         int
}

// openListeners binds each listener, or none of them.
func (b *Balancer) openListeners(cfg Config, ls []Listener) ([]*listener, error) {
	bind := netip.MustParseAddr(cfg.BindAddr)
	var opened []*listener
	for _, l := range ls {
		fd, err := listenSocket(bind, l.Port)
		if err != nil {
			for _, o := range opened {
				unix.Close(o.fd)
			}
			return nil, err
		}
		nl := &listener{b: b, front: l.Port, fd: fd}
		nl.targetPort.Store(int32(l.TargetPort))
		opened = append(opened, nl)
	}
	return opened, nil
}
