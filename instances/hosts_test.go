package instances

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"sync/atomic"
	"testing"

	"kumo/hypervisor"
	"kumo/hypervisor/fake"
	"kumo/internal/ids"
)

// otherHost is a second fake host with a network of its own, on which a
// capacity that knows no other host places every instance.
type otherHost struct {
	name   string
	driver *fake.Driver
	down   atomic.Bool
}

func (h *otherHost) Driver(name string) (hypervisor.Driver, error) {
	if name != h.name || h.down.Load() {
		return nil, fmt.Errorf("host %s is down", name)
	}
	return h.driver, nil
}

func (h *otherHost) Claim(_ context.Context, p Placement, _ Type, idList []string, _ int) ([]Placed, error) {
	placed := make([]Placed, len(idList))
	for i := range placed {
		placed[i].Host = h.name
		if len(p.Hosts) > 0 {
			placed[i].Host = p.Hosts[0]
		}
	}
	return placed, nil
}
func (*otherHost) Adopt(context.Context, Placed, string, Type, ...string) error { return nil }
func (*otherHost) Release(context.Context, ...string) error                     { return nil }
func (*otherHost) Holders(context.Context) ([]string, error)                    { return nil, nil }

func newTwoHostEnv(t *testing.T) (*env, *otherHost) {
	h2 := &otherHost{name: "h2", driver: fake.New(fake.Options{Networks: []hypervisor.Network{
		{Name: "kumo", Bridge: "kumobr2", CIDR: "10.77.2.0/24", Gateway: "10.77.2.1"}}})}
	e := newEnv(t, func(c *Config) { c.Hosts, c.Capacity = h2, h2 })
	e.svc.HostUp(h2.name)
	return e, h2
}

func TestInstancesRunOnTheHostTheyArePlacedOn(t *testing.T) {
	e, h2 := newTwoHostEnv(t)
	ctx := context.Background()
	in := e.run(1)[0]
	if in.Host != "h2" || !netip.MustParsePrefix("10.77.2.0/24").Contains(netip.MustParseAddr(in.PrivateIP)) {
		t.Fatalf("placed on h2, the instance records host %q and address %s", in.Host, in.PrivateIP)
	}
	e.waitState(in.ID, Running)
	if d, err := h2.driver.Inspect(ctx, in.ID); err != nil || d.State != hypervisor.PowerRunning {
		t.Fatalf("on h2: %+v %v", d, err)
	}
	if _, err := e.driver.Inspect(ctx, in.ID); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Fatalf("the instance's domain is also on the service's own host: %v", err)
	}
	if _, err := e.svc.Stop(ctx, []string{in.ID}, true); err != nil {
		t.Fatal(err)
	}
	e.waitState(in.ID, Stopped)
	if _, err := e.svc.Start(ctx, []string{in.ID}); err != nil {
		t.Fatal(err)
	}
	e.waitState(in.ID, Running)
	if _, err := e.svc.Terminate(ctx, []string{in.ID}); err != nil {
		t.Fatal(err)
	}
	e.waitState(in.ID, Terminated)
	if _, err := h2.driver.Inspect(ctx, in.ID); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Fatalf("terminated, its domain stays on h2: %v", err)
	}
}

func TestAHostThatReturnsIsReconciled(t *testing.T) {
	e, h2 := newTwoHostEnv(t)
	ctx := context.Background()
	in := e.run(1)[0]
	e.waitState(in.ID, Running)

	e.svc.HostDown(h2.name)
	h2.down.Store(true)
	if e.svc.HostReachable(h2.name) {
		t.Fatal("a host reported down is reachable")
	}
	// While the host is away its guest powers off and a domain of this
	// control plane appears that no instance has; nothing is seen.
	h2.driver.Crash(in.ID)
	orphan := ids.New("i")
	if err := h2.driver.Define(ctx, hypervisor.Spec{Name: orphan, VCPUs: 1, MemoryMiB: 128, Metadata: e.svc.domainMetadata()}); err != nil {
		t.Fatal(err)
	}
	e.svc.Resync(ctx)
	if got, _ := e.svc.Get(ctx, in.ID); got.State != Running || !got.HostDown {
		t.Fatalf("with its host down the instance is %s (host down: %v); its state is unknown and kept", got.State, got.HostDown)
	}

	h2.down.Store(false)
	e.svc.HostUp(h2.name)
	e.waitState(in.ID, Stopped)
	if got, _ := e.svc.Get(ctx, in.ID); got.HostDown {
		t.Fatal("the host returned, and the instance still says it is down")
	}
	e.eventually("the orphan domain removed", func() bool {
		_, err := h2.driver.Inspect(ctx, orphan)
		return errors.Is(err, hypervisor.ErrNotFound)
	})
}
