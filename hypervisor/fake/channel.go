package fake

import (
	"context"
	"fmt"
	"slices"

	"kumo/hypervisor"
)

var _ hypervisor.ChannelWriter = (*Driver)(nil)

// ChannelConnected reports what SetChannelConnected set for the current
// run, or what the saved guest had open for a restored one.
func (d *Driver) ChannelConnected(ctx context.Context, name, channel string) (bool, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "channel-connected"); err != nil {
		return false, err
	}
	dom, err := d.channel("channel-connected", name, channel)
	if err != nil {
		return false, err
	}
	return dom.state == hypervisor.PowerRunning && dom.connected[channel], nil
}

// WriteChannel records data for Written. Writing to a channel the guest
// has not opened fails, which is the behaviour callers must be ready for
// (a real driver may also let the data wait, or lose it).
func (d *Driver) WriteChannel(ctx context.Context, name, channel string, data []byte) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "write-channel"); err != nil {
		return err
	}
	dom, err := d.channel("write-channel", name, channel)
	if err != nil {
		return err
	}
	if dom.state != hypervisor.PowerRunning {
		return fmt.Errorf("fake: write channel %s of %q (%s): %w", channel, name, dom.state, hypervisor.ErrInvalidState)
	}
	if !dom.connected[channel] {
		return fmt.Errorf("fake: write channel %s of %q: the guest has not opened it", channel, name)
	}
	if d.written[name] == nil {
		d.written[name] = map[string][][]byte{}
	}
	d.written[name][channel] = append(d.written[name][channel], slices.Clone(data))
	return nil
}

// SetChannelConnected plays the guest opening (or closing) a channel of a
// running domain. The state lasts until the domain powers off.
func (d *Driver) SetChannelConnected(name, channel string, connected bool) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.channel("set-channel", name, channel)
	if err != nil {
		return err
	}
	if connected && dom.state != hypervisor.PowerRunning {
		return fmt.Errorf("fake: open channel %s of %q (%s): %w", channel, name, dom.state, hypervisor.ErrInvalidState)
	}
	if dom.connected == nil {
		dom.connected = map[string]bool{}
	}
	dom.connected[channel] = connected
	return nil
}

// Written returns every successful WriteChannel to the channel, oldest
// first. It is kept by name, so it survives power-offs and Undefine.
func (d *Driver) Written(name, channel string) [][]byte {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out [][]byte
	for _, b := range d.written[name][channel] {
		out = append(out, slices.Clone(b))
	}
	return out
}

// RestoredFrom returns the file the domain's current run was restored
// from; false when it is off or was booted.
func (d *Driver) RestoredFrom(name string) (string, bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, ok := d.domains[name]
	if !ok || dom.restoredFrom == "" {
		return "", false
	}
	return dom.restoredFrom, true
}

// channel looks up a domain that has the channel. Callers hold mu.
func (d *Driver) channel(op, name, channel string) (*domain, error) {
	dom, err := d.lookup(op, name)
	if err != nil {
		return nil, err
	}
	if !slices.Contains(dom.spec.Channels, channel) {
		return nil, fmt.Errorf("fake: domain %q has no channel %q", name, channel)
	}
	return dom, nil
}
