package libvirt

import (
	"errors"
	"fmt"

	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

// mapError wraps a libvirt error with the operation and domain, adding the
// hypervisor sentinel its code stands for. The libvirt error stays in the
// chain so callers that need the code can still errors.As it.
func mapError(op, name string, err error) error {
	if err == nil {
		return nil
	}
	var sentinel error
	switch code(err) {
	case lv.ERR_NO_DOMAIN:
		sentinel = hypervisor.ErrNotFound
	case lv.ERR_DOM_EXIST:
		sentinel = hypervisor.ErrExists
	case lv.ERR_OPERATION_INVALID:
		// libvirt's "domain is not running" / "is already active".
		sentinel = hypervisor.ErrInvalidState
	}
	if sentinel == nil {
		return fmt.Errorf("libvirt: %s %q: %w", op, name, err)
	}
	return fmt.Errorf("libvirt: %s %q: %w: %w", op, name, sentinel, err)
}

// withSentinel is for the cases where libvirt's code does not say what
// happened and the driver found out by looking at the domain again.
func withSentinel(op, name string, sentinel, err error) error {
	if errors.Is(err, sentinel) {
		return err
	}
	return fmt.Errorf("libvirt: %s %q: %w: %w", op, name, sentinel, err)
}

// code is the libvirt error number of err, or ERR_OK when err is not a
// libvirt error.
func code(err error) lv.ErrorNumber {
	var e lv.Error
	if errors.As(err, &e) {
		return e.Code
	}
	var pe *lv.Error
	if errors.As(err, &pe) && pe != nil {
		return pe.Code
	}
	return lv.ERR_OK
}

// flagsRejected reports whether a driver refused a call only because of
// its flags. libvirt's test driver, for one, accepts no shutdown flags and
// only some undefine flags, so callers retry with fewer.
func flagsRejected(err error) bool {
	switch code(err) {
	case lv.ERR_INVALID_ARG, lv.ERR_NO_SUPPORT, lv.ERR_ARGUMENT_UNSUPPORTED:
		return true
	}
	return false
}

// withFallback calls fn with each flag set in turn until one is accepted,
// so a driver gets the strongest request it supports.
func withFallback[F any](fn func(F) error, flags ...F) error {
	var err error
	for _, f := range flags {
		if err = fn(f); err == nil || !flagsRejected(err) {
			return err
		}
	}
	return err
}
