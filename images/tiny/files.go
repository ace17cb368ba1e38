package tiny

import (
	"fmt"
	"io"
	"time"
)

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
