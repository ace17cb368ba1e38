package loadbalancer

import (
	"net/netip"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/sys/unix"
)

// conn is one client connection and its connection to a target, owned by
// one worker.
type conn struct {
	b          *Balancer
	l          *listener
	client     int
	server     int // -1 until a target is dialled
	clientTag  int32
	serverTag  int32
	clientAddr netip.AddrPort

	// Target choice: the rotation seen at accept, where in it to start
	// and how many targets were tried.
	rot      *rotation
	start    int
	attempts int
	target   *target // the target dialled last, counted in its active
	deadline time.Time
	// connecting is true until the target connection is established.
	connecting bool

	last int64 // coarse time of the last byte moved

	up, down           half // client to target, target to client
	clientIO, serverIO readiness
}

// readiness is what epoll has said of one socket, cleared when a call
// would block.
type readiness struct {
	readable, writable bool
	hup                bool // the peer has sent its FIN
	out                bool // the epoll interest includes EPOLLOUT
}

// note records the events epoll reported.
func (r *readiness) note(ev uint32) {
	if ev&(unix.EPOLLIN|unix.EPOLLRDHUP|unix.EPOLLHUP|unix.EPOLLERR) != 0 {
		r.readable = true
	}
	if ev&(unix.EPOLLRDHUP|unix.EPOLLHUP) != 0 {
		r.hup = true
	}
	if ev&(unix.EPOLLOUT|unix.EPOLLERR|unix.EPOLLHUP) != 0 {
		r.writable = true
	}
}

// half is one direction of a connection.
type half struct {
	buf      *[]byte // bytes read and not yet written: buf[off:n]
	off, n   int
	pipe     [2]int // splice mode: kernel pipe the bytes pass through
	inPipe   int
	wantPipe bool // a read filled the buffer: move to splice
	eof      bool // the source has ended
	done     bool // the end was passed on
}

func (h *half) pending() bool { return h.buf != nil && h.off < h.n }

func (h *half) release() {
	if h.buf != nil {
		bufPool.Put(h.buf)
		h.buf = nil
	}
	if h.pipe[0] != 0 {
		sysClose(h.pipe[0])
		sysClose(h.pipe[1])
		h.pipe = [2]int{}
	}
}

// bufSize is the copy buffer. A read that fills it means a bulk
// transfer, which then moves by splice.
const bufSize = 16 << 10

// spliceSize is how much one splice call asks for; the pipe's capacity
// bounds it.
const spliceSize = 1 << 20

var bufPool = sync.Pool{New: func() any { b := make([]byte, bufSize); return &b }}

// connEvents: edge-triggered, with peer half-close reported separately so
// that a short read followed by RDHUP needs no extra read to see the end.
// EPOLLOUT is asked for only when a send would block (and while a target
// connects): every ACK or state change would otherwise wake the worker
// for nothing.
const connEvents = unix.EPOLLIN | unix.EPOLLRDHUP | unix.EPOLLET

// maxAttempts bounds how many targets a connection tries before it is
// given up on.
const maxAttempts = 3

// accept takes one connection per event. Listeners are level-triggered:
// if more are waiting the next epoll_wait reports the listener again, so
// nothing is left behind, and no accept call is spent learning that the
// queue is empty.
func (w *worker) accept(l *listener) {
	for {
		fd, peer, err := accept(l.fd)
		switch err {
		case nil:
			w.open(l, fd, peer)
			return
		case unix.EAGAIN:
			return
		case unix.EINTR, unix.ECONNABORTED:
		case unix.EMFILE, unix.ENFILE, unix.ENOBUFS, unix.ENOMEM:
			// Out of descriptors or memory: stop accepting here until the
			// next sweep rather than spinning on the ready listener.
			l.b.log.Warn("accept", "port", l.front, "err", err)
			unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, l.fd, nil)
			delete(w.listeners, int32(l.fd))
			w.paused[int32(l.fd)] = l
			return
		default:
			return
		}
	}
}

// open starts relaying a new client connection: it picks a target and
// dials it.
func (w *worker) open(l *listener, fd int, peer netip.AddrPort) {
	b := l.b
	b.total.Add(1)
	rt := b.rot.Load()
	if len(rt.targets) == 0 {
		b.rejected.Add(1)
		sysClose(fd)
		return
	}
	c := &conn{b: b, l: l, client: fd, server: -1, clientTag: w.nextTag(), clientAddr: peer,
		rot: rt, last: b.coarseNow(), clientIO: readiness{writable: true}}
	c.start = b.pick(b.run.Load().algorithm, rt, c.clientAddr.Addr())
	if err := w.watch(fd, connEvents, c.clientTag); err != nil {
		b.rejected.Add(1)
		sysClose(fd)
		return
	}
	w.track(fd, c)
	w.dial(c)
}

// dial connects to the next target in the rotation; a target that cannot
// be reached is skipped. Nothing has been sent to a target yet, so
// nothing is lost by moving on.
func (w *worker) dial(c *conn) {
	rt := c.rot
	for c.attempts < min(len(rt.targets), maxAttempts) {
		t := rt.targets[(c.start+c.attempts)%len(rt.targets)]
		c.attempts++
		t.active.Add(1)
		fd, err := w.connect(t, t.addrFor(int(c.l.targetPort.Load())))
		if err != nil {
			t.active.Add(-1)
			t.connectErrors.Add(1)
			continue
		}
		c.target, c.server, c.serverTag = t, fd, w.nextTag()
		c.connecting = true
		c.deadline = w.now.Add(c.b.run.Load().connectTimeout)
		// Writable is how a connect reports success; left on afterwards,
		// as taking it off would cost a call on every connection.
		c.serverIO = readiness{out: true}
		if err := w.watch(fd, connEvents|unix.EPOLLOUT, c.serverTag); err != nil {
			sysClose(fd)
			c.server = -1
			t.active.Add(-1)
			t.connectErrors.Add(1)
			continue
		}
		w.track(fd, c)
		return
	}
	c.b.rejected.Add(1)
	c.target = nil
	w.closeConn(c, false)
}

// connectDone handles the first event of a connecting target socket. A
// failed connect always raises EPOLLERR, so writable without it means
// connected, with no SO_ERROR call to confirm it.
func (w *worker) connectDone(c *conn, events uint32) {
	if events&(unix.EPOLLERR|unix.EPOLLHUP) == 0 && events&unix.EPOLLOUT != 0 {
		w.established(c, events)
		return
	}
	c.target.connectErrors.Add(1)
	w.connectFailed(c)
}

// connectFailed drops the target socket and tries the next target.
func (w *worker) connectFailed(c *conn) {
	w.untrack(c.server, c)
	sysClose(c.server)
	c.server = -1
	c.connecting = false
	c.target.active.Add(-1)
	c.target = nil
	w.dial(c)
}

func (w *worker) established(c *conn, events uint32) {
	c.connecting = false
	c.target.total.Add(1)
	c.serverIO.note(events)
	if c.b.run.Load().proxyProtocol {
		bp := bufPool.Get().(*[]byte)
		c.up.buf, c.up.off = bp, 0
		c.up.n = copy(*bp, proxyHeader(c.clientAddr, w.localAddr(c)))
	}
	w.progress(c)
}

// localAddr is the address the client connected to.
func (w *worker) localAddr(c *conn) netip.AddrPort {
	ap, _ := sockname(c.client)
	return ap
}

// progress moves whatever can move in both directions, and closes the
// connection when both have ended.
func (w *worker) progress(c *conn) {
	if c.connecting || c.server < 0 {
		return
	}
	if !w.pump(c, &c.up, &c.down, c.client, c.server, &c.clientIO, &c.serverIO, &c.target.bytesIn) ||
		!w.pump(c, &c.down, &c.up, c.server, c.client, &c.serverIO, &c.clientIO, &c.target.bytesOut) {
		w.abortConn(c)
		return
	}
	if c.up.done && c.down.done {
		w.closeConn(c, false)
	}
}

// pump moves one direction as far as it can without blocking: it writes
// what is pending, then reads more, until a call would block or the
// source has ended. Small messages go through a pooled buffer, taken only
// while data is in flight; once a read fills the buffer the direction
// moves to splice, through a kernel pipe, without copying. It returns
// false on an error that must abort the connection.
func (w *worker) pump(c *conn, h, other *half, src, dst int, in, out *readiness, counter *atomic.Int64) bool {
	for {
		if h.pending() {
			if !out.writable {
				return true
			}
			n, err := send(dst, (*h.buf)[h.off:h.n])
			if err == unix.EAGAIN {
				w.blocked(c, dst, out)
				return true
			}
			if err != nil {
				return false
			}
			counter.Add(int64(n))
			h.off += n
			if h.off < h.n {
				w.blocked(c, dst, out)
				return true
			}
			bufPool.Put(h.buf)
			h.buf = nil
		}
		if h.inPipe > 0 {
			if !out.writable {
				return true
			}
			n, err := sysSplice(h.pipe[0], dst, h.inPipe)
			if err == unix.EAGAIN {
				w.blocked(c, dst, out)
				return true
			}
			if err != nil {
				return false
			}
			counter.Add(int64(n))
			h.inPipe -= n
			continue
		}
		if h.eof {
			if !h.done {
				h.done = true
				// With the other direction over too, close is next and
				// sends the FIN itself.
				if !other.done {
					sysShutdownWrite(dst)
				}
			}
			return true
		}
		if !in.readable {
			return true
		}
		if h.wantPipe && h.pipe[0] == 0 {
			h.wantPipe = false
			var p [2]int
			if unix.Pipe2(p[:], unix.O_NONBLOCK|unix.O_CLOEXEC) == nil {
				h.pipe = p
			}
		}
		if h.pipe[0] != 0 {
			n, err := sysSplice(src, h.pipe[1], spliceSize)
			switch {
			case err == unix.EAGAIN:
				in.readable = false
				return true
			case err != nil:
				return false
			case n == 0:
				h.eof = true
			default:
				h.inPipe = n
				c.last = c.b.coarseNow()
			}
			continue
		}
		bp := bufPool.Get().(*[]byte)
		n, err := read(src, *bp)
		switch {
		case err == unix.EAGAIN:
			bufPool.Put(bp)
			in.readable = false
			return true
		case err != nil:
			bufPool.Put(bp)
			return false
		case n == 0:
			bufPool.Put(bp)
			h.eof = true
			continue
		}
		h.buf, h.off, h.n = bp, 0, n
		c.last = c.b.coarseNow()
		switch {
		case n == len(*bp):
			h.wantPipe = true
		case in.hup:
			// A short read after the peer's FIN has drained everything
			// before it: the end needs no read of its own.
			h.eof = true
		default:
			// Edge-triggered: a short read emptied the socket, and new
			// data will raise a new event.
			in.readable = false
		}
	}
}

// blocked notes that a send to fd would block, and from then on asks
// epoll to report fd writable. Asking when the socket has already drained
// reports it at once, so no wake-up is lost in between.
func (w *worker) blocked(c *conn, fd int, r *readiness) {
	r.writable = false
	if r.out {
		return
	}
	r.out = true
	tag := c.clientTag
	if fd == c.server {
		tag = c.serverTag
	}
	ev := unix.EpollEvent{Events: connEvents | unix.EPOLLOUT, Fd: int32(fd), Pad: tag}
	sysEpollCtl(w.epfd, unix.EPOLL_CTL_MOD, fd, &ev)
}

// closeConn ends a connection; abort resets both sides instead of
// closing them in order.
func (w *worker) closeConn(c *conn, abort bool) {
	for _, fd := range []int{c.client, c.server} {
		if fd < 0 {
			continue
		}
		w.untrack(fd, c)
		if abort {
			sysLingerZero(fd)
		}
		sysClose(fd)
	}
	c.client, c.server = -1, -1
	c.up.release()
	c.down.release()
	if t := c.target; t != nil {
		c.target = nil
		if t.active.Add(-1) == 0 && t.draining.Load() {
			// The balancer's lock may be held by a caller waiting on this
			// worker: never take it here.
			go c.b.drained(t)
		}
	}
}

func (w *worker) abortConn(c *conn) { w.closeConn(c, true) }
