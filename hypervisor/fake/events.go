package fake

import (
	"context"

	"kumo/hypervisor"
)

type subscriber struct {
	ch chan hypervisor.Event
}

// Events subscribes to lifecycle events until ctx ends or the driver
// closes. Delivery never blocks the driver: when a subscriber's buffer is
// full the event is dropped for that subscriber, as the interface allows.
func (d *Driver) Events(ctx context.Context) (<-chan hypervisor.Event, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "events"); err != nil {
		return nil, err
	}
	s := &subscriber{ch: make(chan hypervisor.Event, d.eventBuffer)}
	d.subscribers[s] = struct{}{}
	go func() {
		<-ctx.Done()
		d.mu.Lock()
		defer d.mu.Unlock()
		d.unsubscribeLocked(s)
	}()
	return s.ch, nil
}

// unsubscribeLocked closes s once; both ctx and Close may call it. Sends
// happen under the same lock, so none can hit the closed channel.
func (d *Driver) unsubscribeLocked(s *subscriber) {
	if _, ok := d.subscribers[s]; !ok {
		return
	}
	delete(d.subscribers, s)
	close(s.ch)
}

func (d *Driver) emitLocked(name string, kind hypervisor.EventKind, detail string) {
	ev := hypervisor.Event{Name: name, Kind: kind, Detail: detail}
	for s := range d.subscribers {
		select {
		case s.ch <- ev:
		default:
		}
	}
}
