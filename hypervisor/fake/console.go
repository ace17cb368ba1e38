package fake

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"sync"

	"kumo/hypervisor"
)

var _ hypervisor.SerialConsole = (*Driver)(nil)

// Prompt is what the fake guest's shell prints when it waits for a line.
const Prompt = "# "

// OpenConsole attaches to the fake guest's serial console, where a shell
// echoes what is typed and answers `echo WORDS` with WORDS. As with
// libvirt's forced console, a second attachment ends the first.
func (d *Driver) OpenConsole(ctx context.Context, name string) (io.ReadWriteCloser, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.prologue(ctx, "open-console", name)
	if err != nil {
		return nil, err
	}
	if dom.state != hypervisor.PowerRunning {
		return nil, fmt.Errorf("fake: open console of %q (%s): %w", name, dom.state, hypervisor.ErrInvalidState)
	}
	if dom.console != nil {
		dom.console.end(io.EOF)
	}
	dom.console = &serial{ready: make(chan struct{}, 1)}
	return dom.console, nil
}

// PrintConsole makes the guest print text on its serial console, as a
// program in it would. Nobody sees it unless a console is open.
func (d *Driver) PrintConsole(name, text string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.lookup("print-console", name)
	if err != nil {
		return err
	}
	if dom.console != nil {
		dom.console.print([]byte(text))
	}
	return nil
}

// serial is one attachment to a fake guest's console.
type serial struct {
	mu    sync.Mutex
	out   []byte // printed, not yet read
	line  []byte // typed since the last Enter
	err   error  // why reads end
	ready chan struct{}
}

func (s *serial) print(b []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.printLocked(b)
}

func (s *serial) printLocked(b []byte) {
	if s.err == nil {
		s.out = append(s.out, b...)
		s.wake()
	}
}

func (s *serial) wake() {
	select {
	case s.ready <- struct{}{}:
	default:
	}
}

// end makes reads fail with err once what was printed is read.
func (s *serial) end(err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err == nil {
		s.err = err
	}
	s.wake()
}

func (s *serial) Read(p []byte) (int, error) {
	for {
		s.mu.Lock()
		if len(s.out) > 0 {
			n := copy(p, s.out)
			s.out = s.out[n:]
			s.mu.Unlock()
			return n, nil
		}
		if err := s.err; err != nil {
			s.mu.Unlock()
			return 0, err
		}
		s.mu.Unlock()
		<-s.ready
	}
}

// Write types p: the terminal echoes it, and each Enter runs the line.
func (s *serial) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.err != nil {
		return 0, s.err
	}
	for _, c := range p {
		switch c {
		case '\r', '\n':
			s.printLocked([]byte("\r\n"))
			if words, ok := bytes.CutPrefix(s.line, []byte("echo ")); ok {
				s.printLocked(append(words, '\r', '\n'))
			}
			s.printLocked([]byte(Prompt))
			s.line = s.line[:0]
		case 0x7f: // backspace
			if len(s.line) > 0 {
				s.line = s.line[:len(s.line)-1]
				s.printLocked([]byte("\b \b"))
			}
		default:
			s.line = append(s.line, c)
			s.printLocked([]byte{c})
		}
	}
	return len(p), nil
}

func (s *serial) Close() error {
	s.end(net.ErrClosed)
	return nil
}
