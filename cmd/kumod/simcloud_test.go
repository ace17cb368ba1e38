package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"kumo/api"
	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/hypervisor/fake"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/testkit"
	"kumo/loadbalancer/manager"
	"kumo/scheduler"
	"kumo/store"
)

// simCloud is kumod wired as main wires it, over simulated hosts: each a
// fake hypervisor registered in the fleet under a test:/// URI, placed on
// by the scheduler through fleetCapacity, reached through fleetDrivers,
// with the REST API in front.
type simCloud struct {
	store   *store.Store
	fleet   *hosts.Service
	svc     *instances.Service
	api     *httptest.Server
	image   string
	running atomic.Int64 // instances that reached running
}

// simOwner is the one account the simulated cloud's requests speak for.
const simOwner = "111122223333"

// simNetwork is the fake's network widened to a /16: addresses are drawn
// per network name across the fleet, and the fake's /24 holds only 253.
var simNetwork = hypervisor.Network{Name: fake.DefaultNetwork.Name, Bridge: fake.DefaultNetwork.Bridge, CIDR: "10.77.0.0/16", Gateway: "10.77.0.1"}

// oneAccount stands in for REST signatures, which have their own tests.
type oneAccount struct{}

func (oneAccount) AuthenticateREST(*http.Request, []byte, bool) (api.Caller, error) {
	return api.Caller{Account: simOwner}, nil
}

// simFleet is the simulated fleet: Hosts hosts of CPUs and MemoryMiB
// each, named node0000 on, placed on with Strategy ("" for binpack).
type simFleet struct {
	Hosts, CPUs, MemoryMiB int
	Strategy               scheduler.Strategy
}

// newSimCloud starts the cloud over fleet; kumod's own host is node0000.
func newSimCloud(tb testing.TB, fleetOf simFleet) *simCloud {
	tb.Helper()
	ctx := context.Background()
	st, dir := testkit.Store(tb)
	log := testkit.QuietLog()
	clk := clock.Real{}
	connect := func(uri string) (hypervisor.Driver, error) {
		info := hypervisor.HostInfo{Hostname: strings.TrimPrefix(uri, "test:///"), CPUs: fleetOf.CPUs, MemoryMiB: fleetOf.MemoryMiB}
		return fake.New(fake.Options{Host: info, Networks: []hypervisor.Network{simNetwork}}), nil
	}
	fleet := hosts.New(hosts.Config{}, st, connect, clk, log)
	if err := fleet.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(fleet.Close)
	for i := range fleetOf.Hosts {
		name := fmt.Sprintf("node%04d", i)
		if _, err := fleet.Register(ctx, hosts.RegisterRequest{Name: name, URI: "test:///" + name, Zone: "local-a"}); err != nil {
			tb.Fatal(err)
		}
	}
	own, err := fleet.Driver("node0000")
	if err != nil {
		tb.Fatal(err)
	}
	im, err := images.New(st, filepath.Join(dir, "images"), clk, log)
	if err != nil {
		tb.Fatal(err)
	}
	image, _ := testkit.Image(tb, im, images.RegisterRequest{Name: "tiny"})
	svc := instances.New(instances.Config{
		DataDir: filepath.Join(dir, "instances"), Host: "node0000",
		Capacity: fleetCapacity{fleet: fleet, store: st, strategy: fleetOf.Strategy}, Hosts: fleetDrivers{fleet},
		MaxInstances: 1_000_000, MaxPerOwner: 1_000_000,
	}, st, own, im, clk, log)
	c := &simCloud{store: st, fleet: fleet, svc: svc, image: image.ID}
	// Counted as they happen: polling the store for tens of thousands of
	// rows would load the very store being measured.
	svc.OnStateChange(func(_ string, state instances.State) {
		if state == instances.Running {
			c.running.Add(1)
		}
	})
	if err := svc.Open(ctx); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(svc.Close)
	if err := followHosts(ctx, fleet, svc, nil); err != nil {
		tb.Fatal(err)
	}
	lbs := manager.New(st, svc, manager.Config{}, clk, log)
	c.api = httptest.NewServer(api.New(svc, im, lbs, log, api.Options{RESTAuth: oneAccount{}, Hosts: fleet}))
	tb.Cleanup(c.api.Close)
	return c
}
