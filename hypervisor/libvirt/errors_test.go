package libvirt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

func TestMapError(t *testing.T) {
	for _, tc := range []struct {
		code lv.ErrorNumber
		want error
	}{
		{lv.ERR_NO_DOMAIN, hypervisor.ErrNotFound},
		{lv.ERR_DOM_EXIST, hypervisor.ErrExists},
		{lv.ERR_OPERATION_INVALID, hypervisor.ErrInvalidState},
		{lv.ERR_INTERNAL_ERROR, nil},
		{lv.ERR_SYSTEM_ERROR, nil},
	} {
		orig := lv.Error{Code: tc.code, Message: "from libvirt"}
		err := mapError("start", "i-1", orig)
		for _, sentinel := range []error{hypervisor.ErrNotFound, hypervisor.ErrExists, hypervisor.ErrInvalidState} {
			if got := errors.Is(err, sentinel); got != (sentinel == tc.want) {
				t.Errorf("code %d: errors.Is(%v, %v) = %v", tc.code, err, sentinel, got)
			}
		}
		var back lv.Error
		if !errors.As(err, &back) || back.Code != tc.code {
			t.Errorf("code %d: libvirt error lost from %v", tc.code, err)
		}
		if !strings.Contains(err.Error(), `start "i-1"`) {
			t.Errorf("code %d: %q does not name the operation and domain", tc.code, err)
		}
	}
	if mapError("start", "i-1", nil) != nil {
		t.Error("mapError(nil) != nil")
	}
	if code(fmt.Errorf("wrapped: %w", lv.Error{Code: lv.ERR_NO_NETWORK})) != lv.ERR_NO_NETWORK {
		t.Error("code does not see through wrapping")
	}
}

func TestWithFallback(t *testing.T) {
	var tried []int
	rejectAbove := func(max int) func(int) error {
		return func(f int) error {
			tried = append(tried, f)
			if f > max {
				return lv.Error{Code: lv.ERR_INVALID_ARG, Message: "unsupported flags"}
			}
			return nil
		}
	}
	if err := withFallback(rejectAbove(1), 3, 1, 0); err != nil || fmt.Sprint(tried) != "[3 1]" {
		t.Errorf("withFallback = %v after trying %v, want success after [3 1]", err, tried)
	}
	tried = nil
	other := lv.Error{Code: lv.ERR_OPERATION_INVALID}
	err := withFallback(func(f int) error { tried = append(tried, f); return other }, 3, 1)
	if !errors.Is(err, other) || len(tried) != 1 {
		t.Errorf("withFallback retried %v on a non-flag error %v", tried, err)
	}
}

// These go through libvirt's test driver to pin down how its real errors
// come out, not just the mapping table.
func TestDriverErrors(t *testing.T) {
	d := newTestDriver(t)
	defer d.Close()
	err := d.Start(ctx(t), "i-missing")
	var le lv.Error
	if !errors.Is(err, hypervisor.ErrNotFound) || !errors.As(err, &le) || le.Code != lv.ERR_NO_DOMAIN {
		t.Errorf("Start of a missing domain = %v, want ErrNotFound wrapping ERR_NO_DOMAIN", err)
	}
	_, err = d.Network(ctx(t), "missing")
	if !errors.Is(err, hypervisor.ErrNotFound) || !strings.Contains(err.Error(), `network "missing"`) {
		t.Errorf("Network(missing) = %v", err)
	}
	// The test driver's own domain runs from the start.
	err = d.Start(ctx(t), "test")
	if !errors.Is(err, hypervisor.ErrInvalidState) {
		t.Errorf("Start of the running domain test = %v, want ErrInvalidState", err)
	}
	err = d.Define(ctx(t), hypervisor.Spec{Name: "test", VCPUs: 1, MemoryMiB: 64, Kernel: "/k"})
	if !errors.Is(err, hypervisor.ErrExists) {
		t.Errorf("Define of the name test = %v, want ErrExists", err)
	}
	c, cancel := context.WithCancel(context.Background())
	cancel()
	if err := d.Destroy(c, "test"); !errors.Is(err, context.Canceled) {
		t.Errorf("Destroy with a cancelled context = %v", err)
	}
}
