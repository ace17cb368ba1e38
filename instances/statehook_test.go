package instances

import (
	"context"
	"slices"
	"sync"
	"testing"
)

func TestOnStateChangeHearsEveryMove(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var mu sync.Mutex
	heard := map[string][]State{}
	e.svc.OnStateChange(func(id string, st State) {
		mu.Lock()
		defer mu.Unlock()
		heard[id] = append(heard[id], st)
	})
	var id string
	for _, step := range []struct {
		name string
		act  func() error
		want []State // heard since the step before
	}{
		{"run", func() error { id = e.run(1)[0].ID; return nil }, []State{Pending, Running}},
		{"stop", func() error { _, err := e.svc.Stop(ctx, []string{id}, true); return err }, []State{Stopping, Stopped}},
		{"start", func() error { _, err := e.svc.Start(ctx, []string{id}); return err }, []State{Pending, Running}},
		{"reboot", func() error { _, err := e.svc.Reboot(ctx, []string{id}); return err }, nil},
		{"terminate", func() error { _, err := e.svc.Terminate(ctx, []string{id}); return err }, []State{ShuttingDown, Terminated}},
	} {
		mu.Lock()
		before := len(heard[id])
		mu.Unlock()
		if err := step.act(); err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		last := step.want
		if len(last) == 0 {
			last = []State{Running}
		}
		e.waitState(id, last[len(last)-1])
		e.eventually(step.name+" heard", func() bool {
			mu.Lock()
			defer mu.Unlock()
			return len(heard[id]) >= before+len(step.want)
		})
		mu.Lock()
		got := slices.Clone(heard[id][before:])
		mu.Unlock()
		if !slices.Equal(got, step.want) {
			t.Fatalf("%s: heard %v, want %v", step.name, got, step.want)
		}
	}
}
