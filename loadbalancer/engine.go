package loadbalancer

import (
	"fmt"
	"os"
	"runtime"
	"sync"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
)

// The engine moves the bytes: one event loop per CPU, each on its own OS
// thread with its own epoll set, serving every load balancer of the
// process. A connection lives on the worker that accepted it, from accept
// to close, so its state needs no lock. Go's network poller is not used on
// this path: a goroutine per direction costs scheduler work and stack per
// connection that an event loop does not, and connection setup is where a
// proxy spends its time.

// engine is the set of workers.
type engine struct {
	workers []*worker
}

var sharedEngine = sync.OnceValues(startEngine)

// ownNetns is the process's network namespace, which threads return to
// after opening a socket in another one.
var ownNetns int

func startEngine() (*engine, error) {
	fd, err := unix.Open("/proc/self/ns/net", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("load balancer: open own network namespace: %w", err)
	}
	ownNetns = fd
	e := &engine{}
	for i := 0; i < runtime.GOMAXPROCS(0); i++ {
		w, err := newWorker()
		if err != nil {
			return nil, err
		}
		e.workers = append(e.workers, w)
		go w.loop()
	}
	return e, nil
}

// everywhere runs fn on every worker's thread and waits for all of them.
func (e *engine) everywhere(fn func(w *worker)) {
	var wg sync.WaitGroup
	for _, w := range e.workers {
		wg.Add(1)
		w.post(func() {
			fn(w)
			wg.Done()
		})
	}
	wg.Wait()
}

// addListener makes every worker accept on l. Listening sockets are shared:
// EPOLLEXCLUSIVE wakes one worker per incoming connection.
func (e *engine) addListener(l *listener) {
	e.everywhere(func(w *worker) { w.watchListener(l) })
}

// removeListener stops accepting on l and closes it once no worker can
// touch its descriptor any more.
func (e *engine) removeListener(l *listener) {
	e.everywhere(func(w *worker) { w.unwatchListener(l) })
	unix.Close(l.fd)
}

// abort closes, on every worker, the connections match selects; wait says
// whether to wait until they are closed.
func (e *engine) abort(match func(*conn) bool, wait bool) {
	if wait {
		e.everywhere(func(w *worker) { w.abortWhere(match) })
		return
	}
	for _, w := range e.workers {
		w.post(func() { w.abortWhere(match) })
	}
}

// Tags in the epoll data say what a descriptor is: 0 for the worker's own
// descriptors (its wake-up eventfd and listeners), otherwise the generation
// of the connection side it belongs to, so that an event still queued for
// a descriptor number that was closed and reused is recognised as stale.
const ownTag = 0

// worker is one event loop.
type worker struct {
	epfd, evfd int
	tfd        int // timer that paces sweeps
	events     []unix.EpollEvent

	mu   sync.Mutex
	cmds []func()

	// Owned by the worker's thread.
	conns     []*conn // by descriptor, both sides of each connection
	listeners map[int32]*listener
	paused    map[int32]*listener // out of descriptors: accept again later
	gen       int32
	now       time.Time
}

func newWorker() (*worker, error) {
	w := &worker{events: make([]unix.EpollEvent, 256), listeners: map[int32]*listener{}, paused: map[int32]*listener{}}
	var err error
	if w.epfd, err = unix.EpollCreate1(unix.EPOLL_CLOEXEC); err != nil {
		return nil, fmt.Errorf("load balancer: epoll: %w", err)
	}
	// Non-blocking, so that Go's poller can wait on it.
	if err := unix.SetNonblock(w.epfd, true); err != nil {
		return nil, fmt.Errorf("load balancer: epoll: %w", err)
	}
	if w.evfd, err = unix.Eventfd(0, unix.EFD_NONBLOCK|unix.EFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("load balancer: eventfd: %w", err)
	}
	if w.tfd, err = unix.TimerfdCreate(unix.CLOCK_MONOTONIC, unix.TFD_NONBLOCK|unix.TFD_CLOEXEC); err != nil {
		return nil, fmt.Errorf("load balancer: timerfd: %w", err)
	}
	every := unix.NsecToTimespec(int64(sweepEvery))
	if err := unix.TimerfdSettime(w.tfd, 0, &unix.ItimerSpec{Interval: every, Value: every}, nil); err != nil {
		return nil, fmt.Errorf("load balancer: timerfd: %w", err)
	}
	for _, fd := range []int{w.evfd, w.tfd} {
		if err := w.watch(fd, unix.EPOLLIN, ownTag); err != nil {
			return nil, fmt.Errorf("load balancer: epoll: %w", err)
		}
	}
	return w, nil
}

// post queues fn to run on the worker's thread and wakes it.
func (w *worker) post(fn func()) {
	w.mu.Lock()
	w.cmds = append(w.cmds, fn)
	w.mu.Unlock()
	one := [8]byte{1}
	unix.Write(w.evfd, one[:])
}

func (w *worker) runPosted() {
	var buf [8]byte
	unix.Read(w.evfd, buf[:])
	w.mu.Lock()
	cmds := w.cmds
	w.cmds = nil
	w.mu.Unlock()
	for _, fn := range cmds {
		fn()
	}
}

func (w *worker) watch(fd int, events uint32, tag int32) error {
	ev := unix.EpollEvent{Events: events, Fd: int32(fd), Pad: tag}
	return sysEpollCtl(w.epfd, unix.EPOLL_CTL_ADD, fd, &ev)
}

func (w *worker) watchListener(l *listener) {
	if err := w.watch(l.fd, unix.EPOLLIN|unix.EPOLLEXCLUSIVE, ownTag); err != nil {
		l.b.log.Error("watch listener", "port", l.front, "err", err)
		return
	}
	w.listeners[int32(l.fd)] = l
}

func (w *worker) unwatchListener(l *listener) {
	unix.EpollCtl(w.epfd, unix.EPOLL_CTL_DEL, l.fd, nil)
	delete(w.listeners, int32(l.fd))
	delete(w.paused, int32(l.fd))
}

// sweepEvery is how often a worker looks for connect timeouts and idle
// connections.
const sweepEvery = 100 * time.Millisecond

// loop runs the worker. It is an ordinary goroutine, not locked to a
// thread, and it never blocks in a system call: it polls its epoll set
// without waiting, and when nothing is ready it parks on the epoll
// descriptor through Go's own network poller. A worker blocked in
// epoll_wait would hold its P in a system call, which the scheduler's
// monitor keeps taking back, waking every 20 µs to do so: measured, that
// cost more CPU than the proxying.
func (w *worker) loop() {
	f := os.NewFile(uintptr(w.epfd), "epoll")
	raw, err := f.SyscallConn()
	if err != nil {
		panic(fmt.Sprintf("load balancer: epoll descriptor: %v", err))
	}
	for {
		var n int
		var perr error
		err := raw.Read(func(uintptr) bool {
			n, perr = pollNow(w.epfd, w.events)
			return n > 0 || (perr != nil && perr != unix.EINTR)
		})
		if err == nil {
			err = perr
		}
		if err != nil {
			panic(fmt.Sprintf("load balancer: epoll_wait: %v", err))
		}
		w.now = time.Now()
		for _, ev := range w.events[:n] {
			w.dispatch(ev)
		}
	}
}

func (w *worker) dispatch(ev unix.EpollEvent) {
	fd := int(ev.Fd)
	if ev.Pad == ownTag {
		switch {
		case fd == w.evfd:
			w.runPosted()
		case fd == w.tfd:
			var buf [8]byte
			unix.Read(w.tfd, buf[:])
			w.sweep()
		default:
			if l := w.listeners[ev.Fd]; l != nil {
				w.accept(l)
			}
		}
		return
	}
	c := w.lookup(fd)
	if c == nil {
		return
	}
	switch {
	case fd == c.client && ev.Pad == c.clientTag:
		c.clientIO.note(ev.Events)
	case fd == c.server && ev.Pad == c.serverTag:
		if c.connecting {
			w.connectDone(c, ev.Events)
			return
		}
		c.serverIO.note(ev.Events)
	default:
		return
	}
	w.progress(c)
}

func (w *worker) lookup(fd int) *conn {
	if fd < 0 || fd >= len(w.conns) {
		return nil
	}
	return w.conns[fd]
}

func (w *worker) track(fd int, c *conn) {
	for fd >= len(w.conns) {
		w.conns = append(w.conns, make([]*conn, max(len(w.conns), 1024))...)
	}
	w.conns[fd] = c
}

func (w *worker) untrack(fd int, c *conn) {
	if fd >= 0 && fd < len(w.conns) && w.conns[fd] == c {
		w.conns[fd] = nil
	}
}

func (w *worker) nextTag() int32 {
	w.gen++
	if w.gen <= ownTag {
		w.gen = ownTag + 1
	}
	return w.gen
}

// sweep times out connects and closes idle connections; listeners paused
// for lack of descriptors are tried again.
func (w *worker) sweep() {
	for fd, l := range w.paused {
		delete(w.paused, fd)
		w.watchListener(l)
	}
	for _, c := range w.live() {
		switch {
		case c.connecting && w.now.After(c.deadline):
			c.target.connectErrors.Add(1)
			w.connectFailed(c)
		case !c.connecting && c.b.coarseNow()-c.last > int64(c.b.run.Load().idleTimeout):
			w.abortConn(c)
		}
	}
}

func (w *worker) abortWhere(match func(*conn) bool) {
	for _, c := range w.live() {
		if match(c) {
			w.abortConn(c)
		}
	}
}

// live lists the worker's connections, apart from the table that acting on
// them changes.
func (w *worker) live() []*conn {
	var out []*conn
	for fd, c := range w.conns {
		if c != nil && fd == c.client {
			out = append(out, c)
		}
	}
	return out
}

// pollNow is epoll_wait with a zero timeout: it never blocks, so it is a
// raw system call.
func pollNow(epfd int, events []unix.EpollEvent) (int, error) {
	n, _, e := unix.RawSyscall6(unix.SYS_EPOLL_WAIT, uintptr(epfd), uintptr(unsafe.Pointer(&events[0])), uintptr(len(events)), 0, 0, 0)
	if e != 0 {
		return 0, e
	}
	return int(n), nil
}
