// Package revert undoes the steps of a multi-step operation that failed
// half-way, in reverse order, so that every launch path cleans up the same
// way instead of by hand in each error branch.
package revert

// Reverter collects undo functions. The zero value is ready to use.
type Reverter struct {
	undo []func()
	done bool
}

// Add registers f to run if the operation fails.
func (r *Reverter) Add(f func()) { r.undo = append(r.undo, f) }

// Success marks the operation as complete: Fail then does nothing.
func (r *Reverter) Success() { r.done = true }

// Fail runs the undo functions, last added first, unless Success was called.
// It is meant to be deferred right after the Reverter is created.
func (r *Reverter) Fail() {
	if r.done {
		return
	}
	for i := len(r.undo) - 1; i >= 0; i-- {
		r.undo[i]()
	}
	r.undo = nil
}
