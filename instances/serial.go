package instances

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"kumo/hypervisor"
)

// A host lets one client at a time on a domain's serial console, so the
// service holds one attachment per instance and shares it among every
// viewer: all see what the guest prints and all may type.

const (
	// consoleHistory is how much of what the guest printed a viewer gets
	// on arrival, so that it sees the prompt and what led to it.
	consoleHistory = 16 << 10
	// viewerBacklog is how many chunks may wait for one viewer; a viewer
	// further behind is dropped rather than slowing the others.
	viewerBacklog = 256
)

// Reasons a viewer's output ends, besides the viewer closing it.
var (
	ErrConsoleEnded = errors.New("the serial console closed: the instance stopped or the server is shutting down")
	ErrViewerBehind = errors.New("the viewer fell behind the serial console and was dropped")
)

// connectEvent names attaching to the console in IncorrectStateError.
const connectEvent Event = "reached on its serial console"

// Viewer is one person's attachment to an instance's serial console.
type Viewer struct {
	out    chan []byte
	shared *sharedConsole
	once   sync.Once
	err    error // why out closed; read after it has
}

// Output delivers what the guest prints, starting with its recent
// history, and is closed when the console ends (see Err).
func (v *Viewer) Output() <-chan []byte { return v.out }

// Err says why Output closed: ErrConsoleEnded, ErrViewerBehind, or nil
// after Close.
func (v *Viewer) Err() error { return v.err }

// Write types p into the guest's console.
func (v *Viewer) Write(p []byte) (int, error) { return v.shared.write(p) }

// Close detaches the viewer; the last one out closes the host's console.
func (v *Viewer) Close() { v.shared.leave(v, nil) }

// sharedConsole is the host console of one instance and its viewers.
type sharedConsole struct {
	service *Service
	id      string
	conn    io.ReadWriteCloser
	writeMu sync.Mutex

	mu      sync.Mutex // guards viewers and history
	viewers map[*Viewer]bool
	history []byte
	ended   bool
}

// Console attaches a viewer to one of the account's running instances.
func (v Scoped) Console(ctx context.Context, id string) (*Viewer, error) {
	if err := v.own(ctx, []string{id}); err != nil {
		return nil, err
	}
	return v.s.Console(ctx, id)
}

// Console attaches a viewer to a running instance's serial console.
func (s *Service) Console(ctx context.Context, id string) (*Viewer, error) {
	in, err := s.get(ctx, id)
	if err != nil {
		return nil, err
	}
	if State(in.State) != Running {
		return nil, &IncorrectStateError{ID: in.ID, State: State(in.State), Event: connectEvent}
	}
	drv, err := s.driverOf(in.Host)
	if err != nil {
		return nil, err
	}
	serial, ok := drv.(hypervisor.SerialConsole)
	if !ok {
		return nil, fmt.Errorf("console of %s: the host's hypervisor offers no serial console", id)
	}
	// Held while the host console opens, so that two first viewers do not
	// each open one and take it from the other.
	s.consoleMu.Lock()
	defer s.consoleMu.Unlock()
	shared := s.consoles[id]
	if shared == nil {
		conn, err := serial.OpenConsole(ctx, id)
		if errors.Is(err, hypervisor.ErrInvalidState) || errors.Is(err, hypervisor.ErrNotFound) {
			// The guest is not up although the instance says running: it
			// is between a crash and the reconcile that notices.
			return nil, &IncorrectStateError{ID: id, State: State(in.State), Event: connectEvent}
		}
		if err != nil {
			return nil, fmt.Errorf("console of %s: %w", id, err)
		}
		shared = &sharedConsole{service: s, id: id, conn: conn, viewers: map[*Viewer]bool{},
			history: recentLines(s.disks.console(id))}
		s.consoles[id] = shared
		go shared.pump()
	}
	return shared.join(), nil
}

// recentLines is the end of the console log, from a line start so that a
// terminal does not begin in the middle of an escape sequence.
func recentLines(path string) []byte {
	b, err := readTail(path, consoleHistory)
	if err != nil || len(b) < consoleHistory {
		return b
	}
	if i := bytes.IndexByte(b, '\n'); i >= 0 {
		return b[i+1:]
	}
	return nil
}

// join adds a viewer. Callers hold the service's consoleMu, under which
// an ended console is never among the open ones.
func (c *sharedConsole) join() *Viewer {
	c.mu.Lock()
	defer c.mu.Unlock()
	v := &Viewer{out: make(chan []byte, viewerBacklog), shared: c}
	if len(c.history) > 0 {
		v.out <- bytes.Clone(c.history)
	}
	c.viewers[v] = true
	return v
}

// pump hands what the guest prints to every viewer until the console
// ends, whether because the guest stopped or the last viewer left.
func (c *sharedConsole) pump() {
	buf := make([]byte, 32<<10)
	for {
		n, err := c.conn.Read(buf)
		if n > 0 {
			c.broadcast(bytes.Clone(buf[:n]))
		}
		if err != nil {
			c.end()
			return
		}
	}
}

func (c *sharedConsole) broadcast(chunk []byte) {
	c.mu.Lock()
	c.history = append(c.history, chunk...)
	if over := len(c.history) - consoleHistory; over > 0 {
		c.history = append(c.history[:0], c.history[over:]...)
	}
	var behind []*Viewer
	for v := range c.viewers {
		select {
		case v.out <- chunk:
		default:
			behind = append(behind, v)
		}
	}
	c.mu.Unlock()
	for _, v := range behind {
		c.leave(v, ErrViewerBehind)
	}
}

// end closes every viewer once the host console is gone.
func (c *sharedConsole) end() {
	c.service.consoleMu.Lock()
	c.mu.Lock()
	c.ended = true
	c.service.forgetConsoleLocked(c)
	viewers := c.viewers
	c.viewers = map[*Viewer]bool{}
	c.mu.Unlock()
	c.service.consoleMu.Unlock()
	for v := range viewers {
		v.finish(ErrConsoleEnded)
	}
	c.conn.Close()
}

// leave detaches v with reason. The last viewer out closes the host
// console, which ends the pump; the console is forgotten at once, under
// the service's lock, so that a viewer arriving meanwhile opens a console
// of its own instead of joining one about to close.
func (c *sharedConsole) leave(v *Viewer, reason error) {
	c.service.consoleMu.Lock()
	c.mu.Lock()
	_, present := c.viewers[v]
	delete(c.viewers, v)
	last := present && len(c.viewers) == 0 && !c.ended
	if last {
		c.ended = true
		c.service.forgetConsoleLocked(c)
	}
	c.mu.Unlock()
	c.service.consoleMu.Unlock()
	if present {
		v.finish(reason)
	}
	if last {
		c.conn.Close()
	}
}

// forgetConsoleLocked drops c from the open consoles; callers hold
// consoleMu.
func (s *Service) forgetConsoleLocked(c *sharedConsole) {
	if s.consoles[c.id] == c {
		delete(s.consoles, c.id)
	}
}

// closeConsoles ends every viewer, for the service's shutdown.
func (s *Service) closeConsoles() {
	s.consoleMu.Lock()
	open := make([]*sharedConsole, 0, len(s.consoles))
	for _, c := range s.consoles {
		open = append(open, c)
	}
	s.consoleMu.Unlock()
	for _, c := range open {
		c.conn.Close()
	}
}

func (v *Viewer) finish(reason error) {
	v.once.Do(func() {
		v.err = reason
		close(v.out)
	})
}

func (c *sharedConsole) write(p []byte) (int, error) {
	c.writeMu.Lock()
	defer c.writeMu.Unlock()
	n, err := c.conn.Write(p)
	if err != nil {
		return n, fmt.Errorf("console of %s: %w", c.id, err)
	}
	return n, nil
}
