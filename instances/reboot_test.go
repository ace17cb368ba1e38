package instances

import (
	"context"
	"testing"
	"time"

	"kumo/hypervisor"
)

// powerCycles counts the times a domain was destroyed and started again.
func powerCycles(t *testing.T, e *env, id string) func() int {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	events, err := e.driver.Events(ctx)
	if err != nil {
		t.Fatal(err)
	}
	n := make(chan int, 1)
	n <- 0
	go func() {
		for ev := range events {
			if ev.Name == id && ev.Kind == hypervisor.EventStarted {
				n <- <-n + 1
			}
		}
	}()
	return func() int { v := <-n; n <- v; return v }
}

func TestRebootIgnoredByGuestPowerCycles(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RebootTimeout = 30 * time.Second })
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	starts := powerCycles(t, e, id)
	e.driver.SetIgnoreShutdown(id, true)
	if _, err := e.svc.Reboot(context.Background(), []string{id}); err != nil {
		t.Fatal(err)
	}
	e.pumpClock()
	e.eventually("a power cycle", func() bool { return starts() == 1 })
	e.waitState(id, Running)
}

func TestRebootDoneByGuestIsLeftAlone(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.RebootTimeout = 30 * time.Second })
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	starts := powerCycles(t, e, id)
	if _, err := e.svc.Reboot(context.Background(), []string{id}); err != nil {
		t.Fatal(err)
	}
	e.eventually("the reboot event", func() bool { return e.svc.rebootedSince(id, time.Time{}.Add(1)) })
	start := e.clock.Now()
	e.pumpClock()
	e.eventually("the reboot timeout to pass", func() bool { return e.clock.Now().Sub(start) > time.Minute })
	if n := starts(); n != 0 {
		t.Fatalf("a guest that rebooted was power-cycled %d times", n)
	}
}
