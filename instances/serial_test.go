package instances

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

// readUntil gathers a viewer's output until it holds want.
func readUntil(t *testing.T, v *Viewer, want string) string {
	t.Helper()
	var got strings.Builder
	timeout := time.After(5 * time.Second)
	for !strings.Contains(got.String(), want) {
		select {
		case chunk, ok := <-v.Output():
			if !ok {
				t.Fatalf("output ended (%v) before %q; got %q", v.Err(), want, got.String())
			}
			got.Write(chunk)
		case <-timeout:
			t.Fatalf("no %q in %q", want, got.String())
		}
	}
	return got.String()
}

func TestConsoleIsSharedByItsViewers(t *testing.T) {
	e := newEnv(t)
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	ctx := context.Background()

	first, err := e.svc.Console(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	second, err := e.svc.Console(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Write([]byte("echo from-first\r")); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*Viewer{first, second} {
		readUntil(t, v, "from-first\r\n# ")
	}
	e.driver.PrintConsole(id, "kernel says hi\r\n")
	readUntil(t, second, "kernel says hi")

	// A late viewer starts with what the guest printed before it came.
	third, err := e.svc.Console(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	readUntil(t, third, "kernel says hi")
	third.Close()
	if _, ok := <-third.Output(); ok {
		t.Error("a closed viewer's output stays open")
	}
	if third.Err() != nil {
		t.Errorf("a viewer that left says %v", third.Err())
	}
	if _, err := second.Write([]byte("echo still-here\r")); err != nil {
		t.Fatal(err)
	}
	readUntil(t, first, "still-here")

	if _, err := e.svc.Stop(ctx, []string{id}, true); err != nil {
		t.Fatal(err)
	}
	for _, v := range []*Viewer{first, second} {
		for range v.Output() {
		}
		if !errors.Is(v.Err(), ErrConsoleEnded) {
			t.Errorf("viewer of a stopped instance ended with %v, want ErrConsoleEnded", v.Err())
		}
	}
}

func TestConsoleReopensAfterTheLastViewerLeft(t *testing.T) {
	e := newEnv(t)
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	ctx := context.Background()
	for round := range 3 {
		v, err := e.svc.Console(ctx, id)
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if _, err := v.Write([]byte("echo round\r")); err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		readUntil(t, v, "round\r\n# ")
		v.Close()
	}
	e.svc.consoleMu.Lock()
	open := len(e.svc.consoles)
	e.svc.consoleMu.Unlock()
	if open != 0 {
		t.Errorf("%d consoles stay open with no viewer", open)
	}
}

func TestConsoleOfAnInstanceThatDoesNotRun(t *testing.T) {
	e := newEnv(t)
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	ctx := context.Background()
	if _, err := e.svc.Stop(ctx, []string{id}, true); err != nil {
		t.Fatal(err)
	}
	e.waitState(id, Stopped)
	var ise *IncorrectStateError
	if _, err := e.svc.Console(ctx, id); !errors.As(err, &ise) {
		t.Errorf("console of a stopped instance: %v, want IncorrectStateError", err)
	}
	if _, err := e.svc.For("someone-else").Console(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Errorf("console of another account's instance: %v, want ErrNotFound", err)
	}
}
