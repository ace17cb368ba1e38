package revert

import (
	"slices"
	"testing"
)

func TestFailRunsInReverse(t *testing.T) {
	var got []int
	r := &Reverter{}
	r.Add(func() { got = append(got, 1) })
	r.Add(func() { got = append(got, 2) })
	r.Fail()
	r.Fail() // a second Fail must not run anything again
	if !slices.Equal(got, []int{2, 1}) {
		t.Fatalf("undo order = %v, want [2 1]", got)
	}
}

func TestSuccessSkipsUndo(t *testing.T) {
	ran := false
	r := &Reverter{}
	r.Add(func() { ran = true })
	r.Success()
	r.Fail()
	if ran {
		t.Fatal("undo ran after Success")
	}
}
