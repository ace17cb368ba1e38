package instances

import "fmt"

// State is an instance's lifecycle state, named as EC2 names it.
type State string

const (
	Pending      State = "pending"
	Running      State = "running"
	ShuttingDown State = "shutting-down"
	Terminated   State = "terminated"
	Stopping     State = "stopping"
	Stopped      State = "stopped"
)

// States lists every state, in EC2 code order.
var States = []State{Pending, Running, ShuttingDown, Terminated, Stopping, Stopped}

// Code is EC2's numeric state code.
func (s State) Code() int {
	switch s {
	case Pending:
		return 0
	case Running:
		return 16
	case ShuttingDown:
		return 32
	case Terminated:
		return 48
	case Stopping:
		return 64
	case Stopped:
		return 80
	}
	return -1
}

// Event is something that moves an instance: a user's action or an outcome
// the control plane observed.
type Event string

const (
	// Actions people ask for.
	Start     Event = "start"
	Stop      Event = "stop"
	Reboot    Event = "reboot"
	Terminate Event = "terminate"

	// Outcomes of the work those actions started, or of the guest itself.
	Launched      Event = "launched"       // the domain runs
	LaunchFailed  Event = "launch-failed"  // a first launch failed; clean up
	StartFailed   Event = "start-failed"   // a restart failed; keep the disks
	StopDone      Event = "stop-done"      // the domain is off after a stop
	PoweredOff    Event = "powered-off"    // the domain went off on its own
	TerminateDone Event = "terminate-done" // domain and disks are gone
)

// Events lists every event.
var Events = []Event{Start, Stop, Reboot, Terminate, Launched, LaunchFailed, StartFailed, StopDone, PoweredOff, TerminateDone}

// Move is the outcome of an event in a state: the next state, and whether
// the hypervisor must be driven (a start of a running instance changes
// nothing and does nothing; a reboot changes no state but acts).
type Move struct {
	To  State
	Act bool
}

// transitions is the whole instance state machine. An event missing from a
// state's row is illegal in that state.
var transitions = map[State]map[Event]Move{
	Pending: {
		Start:        {Pending, false},
		Terminate:    {ShuttingDown, true},
		Launched:     {Running, false},
		LaunchFailed: {ShuttingDown, true},
		StartFailed:  {Stopped, false},
	},
	Running: {
		Start:      {Running, false},
		Stop:       {Stopping, true},
		Reboot:     {Running, true},
		Terminate:  {ShuttingDown, true},
		PoweredOff: {Stopped, false},
	},
	Stopping: {
		Stop:       {Stopping, false},
		Terminate:  {ShuttingDown, true},
		StopDone:   {Stopped, false},
		PoweredOff: {Stopped, false},
	},
	Stopped: {
		Start:     {Pending, true},
		Stop:      {Stopped, false},
		Terminate: {ShuttingDown, true},
	},
	ShuttingDown: {
		Terminate:     {ShuttingDown, false},
		TerminateDone: {Terminated, false},
	},
	Terminated: {
		Terminate: {Terminated, false},
	},
}

// IncorrectStateError says an event is not legal in the instance's state.
type IncorrectStateError struct {
	ID    string
	State State
	Event Event
}

func (e *IncorrectStateError) Error() string {
	return fmt.Sprintf("the instance '%s' is not in a state from which it can be %s (it is %s)", e.ID, pastTense(e.Event), e.State)
}

func pastTense(e Event) string {
	switch e {
	case Start:
		return "started"
	case Stop:
		return "stopped"
	case Reboot:
		return "rebooted"
	case Terminate:
		return "terminated"
	}
	return string(e)
}

// Next returns the move event causes in state, or an *IncorrectStateError.
func Next(id string, state State, event Event) (Move, error) {
	m, ok := transitions[state][event]
	if !ok {
		return Move{}, &IncorrectStateError{ID: id, State: state, Event: event}
	}
	return m, nil
}
