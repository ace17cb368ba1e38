package conformance

import (
	"context"
	"testing"
	"time"

	"kumo/hypervisor"
)

// These cover what a driver can show without a guest: no conformance
// domain boots a real one, so no channel is ever opened.

func (s *suite) channelWriter(t *testing.T) (hypervisor.Driver, hypervisor.ChannelWriter) {
	t.Helper()
	d := s.driver(t)
	chw, ok := d.(hypervisor.ChannelWriter)
	if !ok {
		t.Skip("driver does not implement hypervisor.ChannelWriter")
	}
	return d, chw
}

func (s *suite) testChannelStopped(t *testing.T) {
	d, chw := s.channelWriter(t)
	spec := s.define(t, d)
	ok, err := chw.ChannelConnected(ctx(t), spec.Name, identityChannel)
	if err != nil || ok {
		t.Fatalf("ChannelConnected of a stopped domain = %v, %v; want false, nil", ok, err)
	}
	wantErr(t, "WriteChannel to a stopped domain", chw.WriteChannel(ctx(t), spec.Name, identityChannel, []byte("x\n")), hypervisor.ErrInvalidState)
}

func (s *suite) testChannelErrors(t *testing.T) {
	d, chw := s.channelWriter(t)
	missing := uniqueName()
	_, err := chw.ChannelConnected(ctx(t), missing, identityChannel)
	wantErr(t, "ChannelConnected of a missing domain", err, hypervisor.ErrNotFound)
	wantErr(t, "WriteChannel to a missing domain", chw.WriteChannel(ctx(t), missing, identityChannel, []byte("x\n")), hypervisor.ErrNotFound)

	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	if _, err := chw.ChannelConnected(ctx(t), spec.Name, "org.kumo.undefined"); err == nil {
		t.Fatal("ChannelConnected of a channel the domain does not have succeeded")
	}
	if err := chw.WriteChannel(ctx(t), spec.Name, "org.kumo.undefined", []byte("x\n")); err == nil {
		t.Fatal("WriteChannel to a channel the domain does not have succeeded")
	}
}

// A write nobody reads may fail or wait, but only as long as ctx allows.
func (s *suite) testChannelNotOpened(t *testing.T) {
	d, chw := s.channelWriter(t)
	spec := s.define(t, d)
	s.start(t, d, spec.Name)
	ok, err := chw.ChannelConnected(ctx(t), spec.Name, identityChannel)
	if err != nil || ok {
		t.Fatalf("ChannelConnected before any guest opened it = %v, %v; want false, nil", ok, err)
	}
	const limit = time.Second
	c, cancel := context.WithTimeout(ctx(t), limit)
	defer cancel()
	start := time.Now()
	err = chw.WriteChannel(c, spec.Name, identityChannel, []byte("nobody reads this\n"))
	if took := time.Since(start); took > limit+2*time.Second {
		t.Fatalf("WriteChannel took %s with a %s context", took, limit)
	}
	if err == nil {
		t.Fatal("WriteChannel to a channel nobody opened succeeded")
	}
}
