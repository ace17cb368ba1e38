package manager

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"testing"

	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/loadbalancer"
)

func TestScopedNamesArePerAccount(t *testing.T) {
	ctx := context.Background()
	m := open(t, openStore(t), newFakeInstances(), clock.Real{}, Config{})
	alice, bob := m.For("alice"), m.For("bob")
	alices, err := alice.Create(ctx, webConfig("web", freePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	bobs, err := bob.Create(ctx, webConfig("web", freePort(t)))
	if err != nil {
		t.Fatalf("bob's web beside alice's: %v", err)
	}
	if alices.Owner != "alice" || bobs.Owner != "bob" {
		t.Fatalf("owners %q and %q", alices.Owner, bobs.Owner)
	}
	if _, err := alice.Create(ctx, webConfig("web", freePort(t))); !errors.Is(err, ErrDuplicateName) {
		t.Fatalf("alice's web twice: %v, want ErrDuplicateName", err)
	}
	for _, c := range []struct {
		view Scoped
		want LoadBalancer
	}{{alice, alices}, {bob, bobs}} {
		got, err := c.view.Get(ctx, "web")
		if err != nil || got.ID != c.want.ID {
			t.Fatalf("%s's web: %+v, %v", c.want.Owner, got, err)
		}
		list, err := c.view.List(ctx)
		if err != nil || len(list) != 1 || list[0].ID != c.want.ID {
			t.Fatalf("%s's list: %+v, %v", c.want.Owner, list, err)
		}
	}

	// The administrator lists and reaches by id every load balancer, and
	// by name those of no account.
	admins := create(t, m, webConfig("web", freePort(t)))
	if admins.Owner != "" {
		t.Fatalf("the administrator's load balancer is %q's", admins.Owner)
	}
	if all, err := m.List(ctx); err != nil || len(all) != 3 {
		t.Fatalf("every load balancer: %+v, %v", all, err)
	}
	if got, err := m.Get(ctx, "web"); err != nil || got.ID != admins.ID {
		t.Fatalf("the administrator's web: %+v, %v", got, err)
	}
	if got, err := m.Get(ctx, bobs.ID); err != nil || got.Owner != "bob" {
		t.Fatalf("bob's web by id, as the administrator: %+v, %v", got, err)
	}
	if _, err := alice.Get(ctx, admins.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("the administrator's load balancer, as alice: %v, want ErrNotFound", err)
	}
}

// TestScopedHidesOtherAccounts checks every action of an account on
// another's load balancer: each fails as on one that does not exist, and
// changes nothing.
func TestScopedHidesOtherAccounts(t *testing.T) {
	ctx := context.Background()
	inst := newFakeInstances()
	inst.set(instanceID(1), "127.0.0.1", instances.Running)
	inst.own(instanceID(1), "alice")
	inst.set(instanceID(2), "127.0.0.1", instances.Running)
	inst.own(instanceID(2), "bob")
	st := openStore(t)
	m := open(t, st, inst, clock.Real{}, Config{})
	alice, bob := m.For("alice"), m.For("bob")
	alices, err := alice.Create(ctx, webConfig("web", freePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.Register(ctx, "web", []string{instanceID(1)}); err != nil {
		t.Fatal(err)
	}
	before, _ := alice.Get(ctx, "web")

	const unknown = "lb-00000000000000000"
	_, notThere := bob.Get(ctx, unknown)
	for _, ref := range []string{alices.ID, "web"} {
		for _, c := range []struct {
			name string
			try  func() error
		}{
			{"get", func() error { _, err := bob.Get(ctx, ref); return err }},
			{"update", func() error {
				_, err := bob.Update(ctx, ref, func(c *loadbalancer.Config) error {
					c.Algorithm = loadbalancer.LeastConnections
					return nil
				})
				return err
			}},
			{"register", func() error { return bob.Register(ctx, ref, []string{instanceID(2)}) }},
			{"deregister", func() error { return bob.Deregister(ctx, ref, []string{instanceID(1)}) }},
			{"delete", func() error { return bob.Delete(ctx, ref) }},
		} {
			err := c.try()
			if !errors.Is(err, ErrNotFound) || errs.Message(err) != strings.Replace(errs.Message(notThere), unknown, ref, 1) {
				t.Errorf("bob: %s alice's %s: %v; want it as %v", c.name, ref, err, notThere)
			}
		}
	}
	if list, err := bob.List(ctx); err != nil || len(list) != 0 {
		t.Fatalf("bob's list: %+v, %v", list, err)
	}
	after, err := alice.Get(ctx, "web")
	if err != nil || !reflect.DeepEqual(after.Config, before.Config) || len(after.Stats.Targets) != 1 {
		t.Fatalf("alice's web after bob:\n%+v, %v\nwant\n%+v", after, err, before)
	}
	if ts, _ := st.Targets(ctx, alices.ID); len(ts) != 1 || ts[0].ID != instanceID(1) {
		t.Fatalf("alice's targets after bob: %+v", ts)
	}
}

func TestScopedRegistersOnlyTheAccountsInstances(t *testing.T) {
	ctx := context.Background()
	inst := newFakeInstances()
	inst.set(instanceID(1), "127.0.0.1", instances.Running)
	inst.own(instanceID(1), "alice")
	inst.set(instanceID(2), "127.0.0.1", instances.Running)
	inst.own(instanceID(2), "bob")
	m := open(t, openStore(t), inst, clock.Real{}, Config{})
	alice := m.For("alice")
	web, err := alice.Create(ctx, webConfig("web", freePort(t)))
	if err != nil {
		t.Fatal(err)
	}
	notThere := alice.Register(ctx, "web", []string{instanceID(99)})
	for _, c := range []struct {
		name   string
		target string
	}{
		{"another account's instance", instanceID(2)},
		{"an address", backend(t, "a").String()},
	} {
		err := alice.Register(ctx, "web", []string{instanceID(1), c.target})
		if !errors.Is(err, ErrInvalidTarget) {
			t.Errorf("alice: register %s: %v, want ErrInvalidTarget", c.name, err)
		}
		if c.target == instanceID(2) && errs.Message(err) != strings.Replace(errs.Message(notThere), instanceID(99), instanceID(2), 1) {
			t.Errorf("bob's instance reads %q, an unknown one %q", errs.Message(err), errs.Message(notThere))
		}
	}
	if lb, _ := alice.Get(ctx, "web"); len(lb.Stats.Targets) != 0 {
		t.Fatalf("refused registrations left %+v", lb.Stats.Targets)
	}
	// The administrator registers any instance or address with any load
	// balancer.
	if err := m.Register(ctx, web.ID, []string{instanceID(2), backend(t, "b").String()}); err != nil {
		t.Fatal(err)
	}
	if lb, _ := alice.Get(ctx, "web"); len(lb.Stats.Targets) != 2 {
		t.Fatalf("targets the administrator registered: %+v", lb.Stats.Targets)
	}
}

// TestScopedPortsAreTheHosts checks that a port of another account's load
// balancer is refused, on create and on update, without naming it.
func TestScopedPortsAreTheHosts(t *testing.T) {
	ctx := context.Background()
	m := open(t, openStore(t), newFakeInstances(), clock.Real{}, Config{})
	alice, bob := m.For("alice"), m.For("bob")
	port := freePort(t)
	alices, err := alice.Create(ctx, webConfig("web", port))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := bob.Create(ctx, webConfig("api", freePort(t))); err != nil {
		t.Fatal(err)
	}
	hidden := func(err error) bool {
		return errors.Is(err, ErrDuplicateListener) && !strings.Contains(err.Error(), "web") && !strings.Contains(err.Error(), alices.ID)
	}
	if _, err := bob.Create(ctx, webConfig("web", port)); !hidden(err) {
		t.Fatalf("bob creates on alice's port: %v", err)
	}
	if _, err := bob.Update(ctx, "api", func(c *loadbalancer.Config) error {
		c.Listeners = append(c.Listeners, loadbalancer.Listener{Port: port, TargetPort: 80})
		return nil
	}); !hidden(err) {
		t.Fatalf("bob moves onto alice's port: %v", err)
	}
	if list, _ := bob.List(ctx); len(list) != 1 || len(list[0].Listeners) != 1 {
		t.Fatalf("bob's load balancers after refusals: %+v", list)
	}
	// Her own load balancer, and any for the administrator, is named.
	for _, v := range []Scoped{alice, m.For("")} {
		if _, err := v.Create(ctx, webConfig("web2", port)); !errors.Is(err, ErrDuplicateListener) || !strings.Contains(err.Error(), alices.ID) {
			t.Fatalf("%q creates on alice's port: %v", v.owner, err)
		}
	}
}
