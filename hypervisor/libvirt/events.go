package libvirt

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

// eventBuffer is how far a subscriber may fall behind before its events
// are dropped; the event loop is shared by every connection in the
// process and must never wait for a reader.
const eventBuffer = 256

var eventLoop struct {
	once sync.Once
	err  error
}

// startEventLoop registers libvirt's default event implementation and runs
// it for the life of the process: libvirt allows one per process, and it
// serves every connection opened after it.
func startEventLoop() error {
	eventLoop.once.Do(func() {
		if err := lv.EventRegisterDefaultImpl(); err != nil {
			eventLoop.err = fmt.Errorf("libvirt: register event loop: %w", err)
			return
		}
		go func() {
			for {
				if err := lv.EventRunDefaultImpl(); err != nil {
					// Not expected; back off rather than spin.
					time.Sleep(100 * time.Millisecond)
				}
			}
		}()
	})
	return eventLoop.err
}

// watchEvents registers the driver's only libvirt callbacks. libvirt
// refuses a second registration of the same event on a connection (the Go
// binding passes one C trampoline for all), so subscribers are fanned out
// here rather than registered each.
func (d *Driver) watchEvents() error {
	id, err := d.conn.DomainEventLifecycleRegister(nil, func(_ *lv.Connect, dom *lv.Domain, ev *lv.DomainEventLifecycle) {
		if name, err := dom.GetName(); err == nil {
			d.publish(translate(name, ev.Event, ev.Detail)...)
		}
	})
	if err != nil {
		return fmt.Errorf("libvirt: register lifecycle events: %w", err)
	}
	d.callbacks = append(d.callbacks, id)
	// A guest rebooting itself is not a lifecycle event in libvirt.
	id, err = d.conn.DomainEventRebootRegister(nil, func(_ *lv.Connect, dom *lv.Domain) {
		if name, err := dom.GetName(); err == nil {
			d.publish(hypervisor.Event{Name: name, Kind: hypervisor.EventRebooted, Detail: "reset"})
		}
	})
	if err != nil {
		d.unwatchEvents()
		return fmt.Errorf("libvirt: register reboot events: %w", err)
	}
	d.callbacks = append(d.callbacks, id)
	return nil
}

func (d *Driver) unwatchEvents() {
	for _, id := range d.callbacks {
		// Fails only when the connection is gone, which drops them too.
		_ = d.conn.DomainEventDeregister(id)
	}
	d.callbacks = nil
}

// Events subscribes to the lifecycle of every domain on the connection.
func (d *Driver) Events(ctx context.Context) (<-chan hypervisor.Event, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	ch := make(chan hypervisor.Event, eventBuffer)
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.closed {
		return nil, errors.New("libvirt: events: driver closed")
	}
	d.subs[ch] = struct{}{}
	go func() {
		<-ctx.Done()
		d.mu.Lock()
		defer d.mu.Unlock()
		d.unsubscribeLocked(ch)
	}()
	return ch, nil
}

// unsubscribeLocked closes ch once, whether its context ended or the
// driver closed. publish sends under the same lock, so never on a closed
// channel.
func (d *Driver) unsubscribeLocked(ch chan hypervisor.Event) {
	if _, ok := d.subs[ch]; ok {
		delete(d.subs, ch)
		close(ch)
	}
}

// publish runs on libvirt's event loop goroutine and must not block it.
func (d *Driver) publish(events ...hypervisor.Event) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for ch := range d.subs {
		for _, ev := range events {
			select {
			case ch <- ev:
			default: // reader too slow; the interface allows dropping
			}
		}
	}
}
