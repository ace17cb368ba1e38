// Package errs holds the error kinds that cross kumo's layers. Domain
// packages return them wrapped with a message for people; the API layers map
// kinds to status codes and EC2 error codes in one table, never by reading
// message text. It must not import any other kumo package.
package errs

import (
	"errors"
	"fmt"
)

// Kinds shared by every resource. Resource-specific kinds (an unknown
// instance, an unknown image) live in their own packages.
var (
	InvalidParameter  = errors.New("invalid parameter value")
	MissingParameter  = errors.New("missing parameter")
	LimitExceeded     = errors.New("limit exceeded")
	InstanceLimit     = errors.New("instance limit exceeded")
	InsufficientSpace = errors.New("insufficient capacity")
)

// Error is an error of a known kind with a message meant for the caller.
type Error struct {
	Kind error
	Msg  string
}

func (e *Error) Error() string { return e.Msg }
func (e *Error) Unwrap() error { return e.Kind }

// New returns an error of kind with a formatted message.
func New(kind error, format string, args ...any) error {
	return &Error{Kind: kind, Msg: fmt.Sprintf(format, args...)}
}

// Message returns the text meant for the caller: the message of the
// outermost *Error, or err's own text.
func Message(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Msg
	}
	return err.Error()
}
