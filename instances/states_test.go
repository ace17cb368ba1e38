package instances

import (
	"errors"
	"strings"
	"testing"
)

// TestTransitionsExhaustive checks every state against every event. Each
// row lists the outcome per event in the order of Events: "-" is illegal, a
// state name is the next state, and a trailing "!" means the hypervisor acts.
func TestTransitionsExhaustive(t *testing.T) {
	//                 start     stop       reboot    terminate        launched launch-failed    start-failed stop-done powered-off terminate-done
	want := map[State]string{
		Pending:      "pending   -          -         shutting-down!   running  shutting-down!   stopped      -         -           -",
		Running:      "running   stopping!  running!  shutting-down!   -        -                -            -         stopped     -",
		Stopping:     "-         stopping   -         shutting-down!   -        -                -            stopped   stopped     -",
		Stopped:      "pending!  stopped    -         shutting-down!   -        -                -            -         -           -",
		ShuttingDown: "-         -          -         shutting-down    -        -                -            -         -           terminated",
		Terminated:   "-         -          -         terminated       -        -                -            -         -           -",
	}
	if len(want) != len(States) {
		t.Fatalf("table covers %d states, there are %d", len(want), len(States))
	}
	for _, from := range States {
		cells := strings.Fields(want[from])
		if len(cells) != len(Events) {
			t.Fatalf("%s: %d cells for %d events", from, len(cells), len(Events))
		}
		for i, ev := range Events {
			cell := cells[i]
			m, err := Next("i-test", from, ev)
			if cell == "-" {
				var ise *IncorrectStateError
				if !errors.As(err, &ise) || ise.State != from || ise.Event != ev {
					t.Errorf("%s + %s: got %+v, %v; want IncorrectStateError", from, ev, m, err)
				}
				continue
			}
			wantMove := Move{To: State(strings.TrimSuffix(cell, "!")), Act: strings.HasSuffix(cell, "!")}
			if err != nil || m != wantMove {
				t.Errorf("%s + %s: got %+v, %v; want %+v", from, ev, m, err, wantMove)
			}
		}
	}
}

func TestStateCodes(t *testing.T) {
	want := map[State]int{Pending: 0, Running: 16, ShuttingDown: 32, Terminated: 48, Stopping: 64, Stopped: 80}
	for s, code := range want {
		if s.Code() != code {
			t.Errorf("%s.Code() = %d, want %d", s, s.Code(), code)
		}
	}
	if State("bogus").Code() != -1 {
		t.Error("unknown state has a code")
	}
}

func TestIncorrectStateMessage(t *testing.T) {
	_, err := Next("i-0123456789abcdef0", Stopped, Reboot)
	want := "the instance 'i-0123456789abcdef0' is not in a state from which it can be rebooted (it is stopped)"
	if err == nil || err.Error() != want {
		t.Fatalf("message = %v, want %q", err, want)
	}
}
