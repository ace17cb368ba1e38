package manager

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/netip"
	"os"
	"os/exec"
	"testing"

	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/internal/netns"
	"kumo/loadbalancer"
)

func TestRegisterRefusesBadTargets(t *testing.T) {
	ctx := context.Background()
	inst := newFakeInstances()
	inst.set(instanceID(1), "127.0.0.1", instances.Running)
	inst.set(instanceID(2), "", instances.Terminated)
	inst.set(instanceID(3), "127.0.0.1", instances.ShuttingDown)
	inst.set(instanceID(4), "10.77.0.4", instances.Running)
	st := openStore(t)
	m := open(t, st, inst, clock.Real{}, Config{})
	web := create(t, m, webConfig("web", freePort(t)))
	for _, tc := range []struct {
		name    string
		targets []string
		kind    error
	}{
		{"none", nil, errs.MissingParameter},
		{"unknown instance", []string{instanceID(99)}, ErrInvalidTarget},
		{"malformed instance id", []string{"i-xyz"}, ErrInvalidTarget},
		{"terminated instance", []string{instanceID(2)}, ErrInvalidTarget},
		{"shutting-down instance", []string{instanceID(3)}, ErrInvalidTarget},
		{"host name", []string{"localhost:80"}, ErrInvalidTarget},
		{"no port", []string{"127.0.0.1"}, ErrInvalidTarget},
		{"port 0", []string{"127.0.0.1:0"}, ErrInvalidTarget},
		{"port 70000", []string{"127.0.0.1:70000"}, ErrInvalidTarget},
		{"unspecified address", []string{"0.0.0.0:80"}, ErrInvalidTarget},
		{"multicast address", []string{"224.0.0.1:80"}, ErrInvalidTarget},
		{"address with a zone", []string{"[fe80::1%eth0]:80"}, ErrInvalidTarget},
		{"outside address without a data plane", []string{"10.77.0.9:80"}, ErrInvalidTarget},
		{"instance without a data plane", []string{instanceID(4)}, ErrInvalidTarget},
		{"one bad among good", []string{instanceID(1), "127.0.0.1:8080", instanceID(99)}, ErrInvalidTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Register(ctx, "web", tc.targets); !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if ts, _ := st.Targets(ctx, web.ID); len(ts) != 0 {
				t.Fatalf("a refused registration stored %+v", ts)
			}
		})
	}
	if err := m.Register(ctx, "nope", []string{"127.0.0.1:80"}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("register with unknown load balancer: %v", err)
	}
}

// TestTargetsAreReachedFromTheRightNamespace checks where sockets to each
// kind of target would be made, without making any.
func TestTargetsAreReachedFromTheRightNamespace(t *testing.T) {
	for _, tc := range []struct {
		addr, namespace string
		address, inst   string // the namespace of an address target, of an instance there
		addressRefused  bool
		instanceRefused bool
	}{
		{addr: "127.0.0.1:80", namespace: "data", address: "", inst: "data"},
		{addr: "[::1]:80", namespace: "data", address: "", inst: "data"},
		{addr: "[::ffff:127.0.0.1]:80", namespace: "data", address: "", inst: "data"},
		{addr: "10.77.0.2:80", namespace: "data", address: "data", inst: "data"},
		{addr: "[fd00::5]:80", namespace: "data", address: "data", inst: "data"},
		{addr: "127.0.0.1:80", namespace: "", address: "", inst: ""},
		{addr: "10.77.0.2:80", namespace: "", addressRefused: true, instanceRefused: true},
	} {
		t.Run(tc.addr+" with namespace "+tc.namespace, func(t *testing.T) {
			m := New(nil, nil, Config{Namespace: tc.namespace}, clock.Real{}, quiet())
			_, ap, err := parseTarget(tc.addr)
			if err != nil {
				t.Fatal(err)
			}
			tg, err := m.addressTarget(ap)
			if errors.Is(err, ErrInvalidTarget) != tc.addressRefused || !tc.addressRefused && tg.Netns != tc.address {
				t.Fatalf("address reached in %q (%v), want %q", tg.Netns, err, tc.address)
			}
			in := instances.Instance{State: instances.Running}
			in.ID, in.PrivateIP = instanceID(1), ap.Addr().String()
			tg, err = m.instanceTarget(in)
			if errors.Is(err, ErrInvalidTarget) != tc.instanceRefused || !tc.instanceRefused && (tg.Netns != tc.inst || tg.Port != 0) {
				t.Fatalf("instance reached in %q on port %d (%v), want %q", tg.Netns, tg.Port, err, tc.inst)
			}
		})
	}
}

func TestDeregister(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	m := open(t, st, newFakeInstances(), clock.Real{}, Config{})
	port := freePort(t)
	web := create(t, m, webConfig("web", port))
	a, b := backend(t, "a"), backend(t, "b")
	register(t, m, "web", a.String(), b.String())
	for _, tc := range []struct {
		name    string
		targets []string
		kind    error
	}{
		{"none", nil, errs.MissingParameter},
		{"not registered", []string{"127.0.0.1:1"}, ErrTargetNotRegistered},
		{"one registered, one not", []string{a.String(), instanceID(1)}, ErrTargetNotRegistered},
		{"malformed", []string{"nonsense"}, ErrInvalidTarget},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := m.Deregister(ctx, "web", tc.targets); !errors.Is(err, tc.kind) {
				t.Fatalf("err = %v, want %v", err, tc.kind)
			}
			if ts, _ := st.Targets(ctx, web.ID); len(ts) != 2 {
				t.Fatalf("a refused deregistration left %+v", ts)
			}
		})
	}
	// Written another way, the address is the same target.
	if err := m.Deregister(ctx, "web", []string{"[::ffff:127.0.0.1]:" + fmt.Sprint(a.Port())}); err != nil {
		t.Fatal(err)
	}
	if _, ok := targetOf(t, m, "web", a.String()); ok {
		t.Fatal("deregistered target still in the data path")
	}
	for range 5 {
		answers(t, port, "b")
	}
	if ts, _ := st.Targets(ctx, web.ID); len(ts) != 1 || ts[0].ID != b.String() {
		t.Fatalf("stored targets: %+v", ts)
	}
}

func TestInstanceTargetsFollowTheirState(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	inst := newFakeInstances()
	m := open(t, st, inst, clock.Real{}, Config{})
	back := backend(t, "web")
	port := freePort(t)
	cfg := webConfig("web", port)
	cfg.Listeners[0].TargetPort = int(back.Port())
	web := create(t, m, cfg)
	// Loopback stands in for the instances' network.
	up, down := instanceID(1), instanceID(2)
	inst.set(up, "127.0.0.1", instances.Running)
	inst.set(down, "127.0.0.1", instances.Stopped)
	inst.set(instanceID(3), "127.0.0.1", instances.Pending)
	register(t, m, "web", up, down, instanceID(3))

	for _, tc := range []struct {
		id     string
		unused string
	}{
		{up, ""},
		{down, "Target is in the stopped state"},
		{instanceID(3), "Target is in the pending state"},
	} {
		ts, ok := targetOf(t, m, "web", tc.id)
		if !ok || (tc.unused == "") != (ts.State != loadbalancer.Unused) || ts.Description != tc.unused && tc.unused != "" {
			t.Errorf("%s: %+v, want unused %q", tc.id, ts, tc.unused)
		}
		if ts.Addr != back.String() {
			t.Errorf("%s reached at %s, want %s", tc.id, ts.Addr, back)
		}
	}
	answers(t, port, "web")

	inst.set(down, "127.0.0.1", instances.Running)
	eventually(t, "the started instance to be checked", func() bool {
		ts, _ := targetOf(t, m, "web", down)
		return ts.State == loadbalancer.Healthy
	})
	inst.set(up, "127.0.0.1", instances.Stopping)
	if ts, _ := targetOf(t, m, "web", up); ts.State != loadbalancer.Unused || ts.Description != "Target is in the stopping state" {
		t.Fatalf("stopping instance: %+v", ts)
	}
	inst.set(up, "", instances.Terminated)
	if _, ok := targetOf(t, m, "web", up); ok {
		t.Fatal("terminated instance still registered")
	}
	if lbs, _ := st.LoadBalancersOfInstance(ctx, up); len(lbs) != 0 {
		t.Fatalf("terminated instance still stored with %v", lbs)
	}
	if ts, _ := st.Targets(ctx, web.ID); len(ts) != 2 {
		t.Fatalf("stored targets: %+v", ts)
	}
	answers(t, port, "web")
}

func TestRestartDropsInstancesTerminatedMeanwhile(t *testing.T) {
	ctx := context.Background()
	st := openStore(t)
	inst := newFakeInstances()
	first := open(t, st, inst, clock.Real{}, Config{})
	web := create(t, first, webConfig("web", freePort(t)))
	inst.set(instanceID(1), "127.0.0.1", instances.Running)
	inst.set(instanceID(2), "127.0.0.1", instances.Running)
	inst.set(instanceID(3), "127.0.0.1", instances.Running)
	register(t, first, "web", instanceID(1), instanceID(2), instanceID(3))
	first.Close()

	// While no manager listens, one instance ends, one vanishes, one stops.
	inst.set(instanceID(1), "", instances.Terminated)
	inst.mu.Lock()
	delete(inst.byID, instanceID(2))
	inst.mu.Unlock()
	inst.set(instanceID(3), "127.0.0.1", instances.Stopped)

	second := open(t, st, inst, clock.Real{}, Config{})
	lb, err := second.Get(ctx, "web")
	if err != nil || len(lb.Stats.Targets) != 1 || lb.Stats.Targets[0].ID != instanceID(3) || lb.Stats.Targets[0].State != loadbalancer.Unused {
		t.Fatalf("after restart: %+v, %v", lb.Stats.Targets, err)
	}
	if ts, _ := st.Targets(ctx, web.ID); len(ts) != 1 {
		t.Fatalf("stored targets: %+v", ts)
	}
}

// TestInstancesAreReachedInsideTheDataPlane serves an instance's port on
// 127.0.0.1 inside a fresh network namespace: only a connection made in
// that namespace reaches it.
func TestInstancesAreReachedInsideTheDataPlane(t *testing.T) {
	ns := fmt.Sprintf("kumo-lb-test-%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", ns).CombinedOutput(); err != nil {
		t.Fatalf("ip netns add: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	if out, err := exec.Command("ip", "-n", ns, "link", "set", "lo", "up").CombinedOutput(); err != nil {
		t.Fatalf("lo up: %v %s", err, out)
	}
	var ln net.Listener
	if err := netns.Do(ns, func() (err error) { ln, err = net.Listen("tcp", "127.0.0.1:0"); return }); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	serve(t, ln, "inside")
	inner := ln.Addr().(*net.TCPAddr).AddrPort()

	inst := newFakeInstances()
	inst.set(instanceID(1), "127.0.0.1", instances.Running)
	m := open(t, openStore(t), inst, clock.Real{}, Config{Namespace: ns})
	port := freePort(t)
	cfg := webConfig("web", port)
	cfg.Listeners[0].TargetPort = int(inner.Port())
	create(t, m, cfg)
	register(t, m, "web", instanceID(1))
	answers(t, port, "inside")
	if ts, _ := targetOf(t, m, "web", instanceID(1)); ts.Addr != netip.AddrPortFrom(netip.MustParseAddr("127.0.0.1"), inner.Port()).String() {
		t.Fatalf("target reached at %s", ts.Addr)
	}
}
