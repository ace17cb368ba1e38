package tiny

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

// writeAtomic writes a file so that a reader, or a build that crashed
// half-way, sees either the old content or the new, never a mix: the
// data goes to a temporary file in the same folder, reaches the disk,
// and is renamed over the target.
func writeAtomic(path string, perm os.FileMode, write func(io.Writer) error) error {
	f, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-")
	if err != nil {
		return err
	}
	tmp := f.Name()
	ok := false
	defer func() {
		if !ok {
			f.Close()
			os.Remove(tmp)
		}
	}()
	if err := write(f); err != nil {
		return err
	}
	if err := f.Chmod(perm); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	ok = true
	return syncDir(filepath.Dir(path))
}

// installAtomic moves a finished file made by a tool into place; src must
// be in the same folder as dst so the rename cannot cross file systems.
func installAtomic(src, dst string) error {
	if err := syncFile(src); err != nil {
		return err
	}
	if err := os.Rename(src, dst); err != nil {
		return err
	}
	return syncDir(filepath.Dir(dst))
}

func syncFile(path string) error {
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

// syncDir makes a rename durable: without it a crash can bring back the
// old name.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// step reports one stage of the build and how long it took.
type step struct {
	w     io.Writer
	what  string
	start time.Time
}

func begin(w io.Writer, format string, args ...any) step {
	s := step{w: w, what: fmt.Sprintf(format, args...), start: time.Now()}
	fmt.Fprintf(w, "%s ...\n", s.what)
	return s
}

func (s step) done() {
	fmt.Fprintf(s.w, "%s: done in %s\n", s.what, time.Since(s.start).Round(time.Millisecond))
}
