package libvirt

import (
	"errors"
	"io"
	"os"
	"sync"
	"syscall"
	"time"
)

// feedPoll is how often a feeder looks for libvirt opening its FIFO.
// Opening the write end without O_NONBLOCK would wait for a reader that
// may never come, and could not be interrupted.
const feedPoll = 2 * time.Millisecond

var errFeedStopped = errors.New("feeder stopped")

// A feeder serves a rewritten copy of a save image through a FIFO: the
// first time libvirt opens the FIFO, it writes head and then the image's
// migration stream. libvirt reads the header itself and hands the rest of
// the descriptor to QEMU, which reads a pipe as well as a file, so a
// restore costs no copy on disk and many restores share one image.
//
// Only the first opening gets data; every later one, and every one after
// an abort, gets end of file at once, so that libvirt fails rather than
// waits for a writer. A FIFO cannot serve a second reader reliably: one
// that opens while the first is still open shares its pipe and would read
// the middle of the first copy. libvirt 9.0 opens the image once; later
// versions that read the header in an open of its own fail cleanly here.
type feeder struct {
	path   string
	head   []byte
	src    io.ReaderAt
	off, n int64

	stop   chan struct{} // closed once libvirt will not open the FIFO again
	exited chan struct{}

	mu      sync.Mutex
	cur     *os.File // the write end being written, if any
	aborted bool     // no more data for anyone
	served  bool     // the first reader got everything
	err     error    // why it did not
}

func startFeeder(path string, head []byte, src io.ReaderAt, off, n int64) (*feeder, error) {
	if err := syscall.Mkfifo(path, 0o600); err != nil {
		return nil, &os.PathError{Op: "mkfifo", Path: path, Err: err}
	}
	f := &feeder{path: path, head: head, src: src, off: off, n: n,
		stop: make(chan struct{}), exited: make(chan struct{})}
	go f.run()
	return f, nil
}

// abort makes the restore fail: the copy under way ends and later readers
// get end of file.
func (f *feeder) abort() {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.aborted = true
	if f.cur != nil {
		// Close interrupts a Write blocked on a full pipe: the descriptor
		// is non-blocking and so managed by Go's poller.
		f.cur.Close()
	}
}

// finish stops serving, once libvirt is done with the FIFO, and removes
// it. The error says why no reader got the whole image, if none did.
func (f *feeder) finish() error {
	close(f.stop)
	f.abort()
	<-f.exited
	os.Remove(f.path)
	f.mu.Lock()
	defer f.mu.Unlock()
	switch {
	case f.served:
		return nil
	case f.err == nil:
		return errors.New("nothing read the image")
	}
	return f.err
}

func (f *feeder) run() {
	defer close(f.exited)
	for {
		w, aborted, err := f.open()
		if err != nil {
			if !errors.Is(err, errFeedStopped) {
				f.setErr(err)
			}
			return
		}
		if aborted {
			w.Close()
			// The reader may still hold its end open; look again later.
			time.Sleep(5 * feedPoll)
			continue
		}
		err = f.copy(w)
		f.mu.Lock()
		f.cur = nil
		f.served = err == nil
		f.err = err
		f.aborted = true
		f.mu.Unlock()
		w.Close()
	}
}

// open waits for a reader, as the write end of a FIFO opens only when the
// read end is open, and registers the write end for abort to close.
func (f *feeder) open() (w *os.File, aborted bool, err error) {
	for {
		select {
		case <-f.stop:
			return nil, false, errFeedStopped
		default:
		}
		fd, err := syscall.Open(f.path, syscall.O_WRONLY|syscall.O_NONBLOCK|syscall.O_CLOEXEC, 0)
		if err == nil {
			w := os.NewFile(uintptr(fd), f.path)
			f.mu.Lock()
			defer f.mu.Unlock()
			if !f.aborted {
				f.cur = w
			}
			return w, f.aborted, nil
		}
		if err != syscall.ENXIO && err != syscall.EINTR {
			return nil, false, &os.PathError{Op: "open", Path: f.path, Err: err}
		}
		select {
		case <-f.stop:
			return nil, false, errFeedStopped
		case <-time.After(feedPoll):
		}
	}
}

func (f *feeder) copy(w *os.File) error {
	if _, err := w.Write(f.head); err != nil {
		return err
	}
	_, err := io.Copy(w, io.NewSectionReader(f.src, f.off, f.n))
	return err
}

func (f *feeder) setErr(err error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.err = err
}
