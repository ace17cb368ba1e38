package scheduler

import (
	"errors"
	"testing"

	"kumo/internal/errs"
)

// TestErrorKinds: the API maps errors by kind, so each type must wrap the
// kind that gives EC2's code.
func TestErrorKinds(t *testing.T) {
	cases := []struct {
		err  error
		kind error
	}{
		{&InsufficientCapacityError{}, errs.InsufficientSpace},
		{&GroupLimitError{}, errs.InsufficientSpace},
		{&InvalidRequestError{}, errs.InvalidParameter},
	}
	for _, c := range cases {
		if !errors.Is(c.err, c.kind) {
			t.Errorf("%T does not wrap %v", c.err, c.kind)
		}
		if errs.Message(c.err) != c.err.Error() {
			t.Errorf("%T: the API would not show its message", c.err)
		}
	}
}

func TestGroupLimitMessage(t *testing.T) {
	err := &GroupLimitError{Group: "web", Requested: 3, Room: 1, Zones: []ZoneCount{{"local-a", 6}, {"local-b", 7}}}
	want := "spread placement group 'web' holds at most 7 running instances per Availability Zone (local-a has 6, local-b has 7): 1 more fit, 3 were requested"
	if err.Error() != want {
		t.Errorf("message\n%s\nwant\n%s", err, want)
	}
}

func TestSummarise(t *testing.T) {
	got := summarise(map[string]Reason{"a": ReasonCPU, "b": ReasonDraining, "c": ReasonCPU, "d": ReasonArch, "e": ReasonDown})
	want := "Hosts: 2 short of vCPUs, 1 down, 1 draining, 1 of another architecture."
	if got != want {
		t.Errorf("%s\nwant\n%s", got, want)
	}
}
