package instances

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
	"testing"

	"kumo/internal/errs"
)

func idsOf(list []Instance) []string {
	var out []string
	for _, in := range list {
		out = append(out, in.ID)
	}
	slices.Sort(out)
	return out
}

func TestClientTokenMakesRunIdempotent(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	req := RunRequest{Owner: "alice", Image: e.imageID, Type: "t2.nano", MinCount: 2, MaxCount: 2, ClientToken: "deploy-42"}
	first, err := e.svc.Run(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if first[0].ReservationID == "" || first[0].ReservationID != first[1].ReservationID || first[1].LaunchIndex != 1 {
		t.Fatalf("one launch, one reservation: %+v", first)
	}
	e.waitState(first[0].ID, Running)

	again, err := e.svc.Run(ctx, req)
	if err != nil || !slices.Equal(idsOf(again), idsOf(first)) {
		t.Fatalf("retry = %v, %v; want the first launch's %v", idsOf(again), err, idsOf(first))
	}
	if got := again[slices.IndexFunc(again, func(in Instance) bool { return in.ID == first[0].ID })].State; got != Running {
		t.Fatalf("a retry answers the instances as they are now: %s", got)
	}

	other := req
	other.Type = "t2.micro"
	if _, err := e.svc.Run(ctx, other); !errors.Is(err, ErrTokenMismatch) {
		t.Fatalf("same token, other request: %v, want ErrTokenMismatch", err)
	}
	bobs := req
	bobs.Owner = "bob"
	if got, err := e.svc.Run(ctx, bobs); err != nil || slices.Equal(idsOf(got), idsOf(first)) {
		t.Fatalf("bob's launch with alice's token: %v, %v", idsOf(got), err)
	}
	long := req
	long.ClientToken = strings.Repeat("x", 65)
	if _, err := e.svc.Run(ctx, long); !errors.Is(err, errs.InvalidParameter) {
		t.Fatalf("a 65-character token: %v", err)
	}
	if all, _ := e.svc.List(ctx, nil); len(all) != 4 {
		t.Fatalf("%d instances, want alice's 2 and bob's 2", len(all))
	}
}

func TestConcurrentRetriesLaunchOnce(t *testing.T) {
	e := newEnv(t)
	req := RunRequest{Owner: "alice", Image: e.imageID, Type: "t2.nano", MinCount: 1, MaxCount: 1, ClientToken: "once"}
	const n = 8
	got := make([][]string, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out, err := e.svc.Run(context.Background(), req)
			if err != nil {
				t.Error(err)
			}
			got[i] = idsOf(out)
		}()
	}
	wg.Wait()
	for i := range got {
		if len(got[i]) != 1 || !slices.Equal(got[i], got[0]) {
			t.Fatalf("answers differ: %v", got)
		}
	}
	if all, _ := e.svc.List(context.Background(), nil); len(all) != 1 {
		t.Fatalf("%d instances launched, want 1", len(all))
	}
}

func TestOwnerLimit(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.MaxPerOwner = 2 })
	ctx := context.Background()
	if _, err := e.svc.Run(ctx, RunRequest{Owner: "alice", Image: e.imageID, Type: "t2.nano", MinCount: 2, MaxCount: 2}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Run(ctx, RunRequest{Owner: "alice", Image: e.imageID, Type: "t2.nano", MinCount: 1, MaxCount: 1}); !errors.Is(err, errs.InstanceLimit) {
		t.Fatalf("alice's third: %v, want InstanceLimit", err)
	}
	out, err := e.svc.Run(ctx, RunRequest{Owner: "bob", Image: e.imageID, Type: "t2.nano", MinCount: 1, MaxCount: 5})
	if err != nil || len(out) != 2 {
		t.Fatalf("bob, MaxCount 5 under a limit of 2: %d launched, %v", len(out), err)
	}
}
