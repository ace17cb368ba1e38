package web_test

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"kumo/accounts"
	"kumo/api"
	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/hypervisor/fake"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/ids"
	"kumo/internal/testkit"
	"kumo/loadbalancer/manager"
	"kumo/metrics"
	"kumo/store"
	"kumo/tags"
	"kumo/web/session"
)

// cloud is kumod's API and console over a fake host, with one account.
type cloud struct {
	srv     *httptest.Server
	imageID string
	key     accounts.NewAccessKey
	admin   accounts.NewAccessKey // the administrator's, who sees the hosts
	// release lets the fake host's domain starts through; until it is
	// closed every launch stays pending.
	release func()
	// metrics samples the fake host only as rounds are played.
	metrics *playedMetrics
}

// gatedDriver holds each domain start until its gate opens, so that a
// browser can see an instance pending before it runs.
type gatedDriver struct {
	*fake.Driver
	gate chan struct{}
}

func (d gatedDriver) Start(ctx context.Context, name string) error {
	select {
	case <-d.gate:
	case <-ctx.Done():
		return ctx.Err()
	}
	return d.Driver.Start(ctx, name)
}

// newCloud builds the server as kumod does, over the fake host. With
// preload > 0 the account already has that many running instances, made
// in the store directly, and the instance service does not run: nothing
// converges them.
func newCloud(t *testing.T, preload int) *cloud {
	t.Helper()
	ctx := context.Background()
	st, dir := testkit.Store(t)
	log := testkit.QuietLog()
	im, err := images.New(st, filepath.Join(dir, "images"), clock.Real{}, log)
	if err != nil {
		t.Fatal(err)
	}
	accts, err := accounts.Open(ctx, st, dir, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	boot, err := accts.Bootstrap(ctx, func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	acct, err := accts.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	c := &cloud{admin: accounts.NewAccessKey{AccessKey: accounts.AccessKey{ID: boot.AccessKeyID}, Secret: boot.SecretAccessKey}}
	if c.key, err = accts.CreateAccessKey(ctx, acct.ID); err != nil {
		t.Fatal(err)
	}
	sessions, err := session.Open(dir, accts, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}

	img, _ := testkit.Image(t, im, images.RegisterRequest{Name: "kumo-tiny", Description: "the cloud's own image"})
	c.imageID = img.ID

	gate := make(chan struct{})
	c.release = func() { close(gate) }
	drv := gatedDriver{Driver: fake.New(fake.Options{}), gate: gate}
	svc := instances.New(instances.Config{DataDir: filepath.Join(dir, "instances"), MaxInstances: 100_000, MaxPerOwner: 100_000},
		st, drv, im, clock.Real{}, log)
	t.Cleanup(svc.Close)
	if preload > 0 {
		preloadInstances(t, st, acct.ID, img.ID, preload)
	} else if err := svc.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.For(acct.ID).CreatePlacementGroup(ctx, instances.PlacementGroupRequest{Name: "db", Strategy: instances.GroupCluster}); err != nil {
		t.Fatal(err)
	}
	// Instances of the fake host have addresses nothing can reach; a
	// namespace that does not exist makes every connection to them fail.
	lbs := manager.New(st, svc, manager.Config{Namespace: "kumo-web-test-none"}, clock.Real{}, log)
	if err := lbs.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lbs.Close)
	c.metrics = startMetrics(t, st, drv.Driver, log)
	fleet := hosts.New(hosts.Config{}, st, func(string) (hypervisor.Driver, error) { return fake.New(fake.Options{}), nil }, clock.Real{}, log)
	if err := fleet.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	if _, err := fleet.Ensure(ctx, hosts.RegisterRequest{Name: "local", URI: "test:///default", Zone: "local-a"}); err != nil {
		t.Fatal(err)
	}
	fleet.CheckHealth()
	done := make(chan struct{})
	t.Cleanup(func() { close(done) })
	c.srv = httptest.NewServer(api.New(svc, im, lbs, log, api.Options{Sessions: sessions, Done: done, Hosts: fleet,
		Tags: tags.New(st, map[string]tags.Resources{tags.Instance: svc}), Metrics: c.metrics.svc}))
	t.Cleanup(c.srv.Close)
	return c
}

func preloadInstances(t *testing.T, st *store.Store, owner, imageID string, n int) {
	t.Helper()
	now := time.Now()
	rows := make([]store.Instance, n)
	names := make([]store.Tag, n)
	states := []string{"running", "running", "running", "stopped", "pending"}
	for i := range rows {
		rows[i] = store.Instance{ID: fmt.Sprintf("i-%017x", i+1), Owner: owner, Name: fmt.Sprintf("web-%04d", i),
			ImageID: imageID, Type: "t2.micro", State: states[i%len(states)], Host: "local",
			MAC: fmt.Sprintf("52:54:00:00:%02x:%02x", i/256, i%256), LaunchedAt: now.Add(-time.Duration(i) * time.Minute), UpdatedAt: now}
		names[i] = store.Tag{ResourceID: rows[i].ID, Key: "Name", Value: rows[i].Name}
	}
	pool := store.Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/20")}
	if _, err := st.CreateInstances(context.Background(), store.Launch{Pool: pool, Instances: rows, Tags: names}); err != nil {
		t.Fatal(err)
	}
}

// metricsBackfill is the history the metrics service is given: its clock
// starts that long before the cloud is made and moves only as rounds are
// played, so no sample lies ahead of the browser's time.
const metricsBackfill = 10 * time.Minute

// playedMetrics is the metrics service as kumod runs it, on a clock of its
// own that moves only when a test plays the rounds.
type playedMetrics struct {
	svc   *metrics.Service
	clock steppedClock
	drv   *fake.Driver
}

// steppedClock tells when the service waits for its next round, so that
// time moves only once the last round is stored.
type steppedClock struct {
	*clock.Fake
	waiting chan struct{}
}

func (c steppedClock) After(d time.Duration) <-chan time.Time {
	ch := c.Fake.After(d)
	c.waiting <- struct{}{}
	return ch
}

func startMetrics(t *testing.T, st *store.Store, drv *fake.Driver, log *slog.Logger) *playedMetrics {
	t.Helper()
	// The service waits once per round and each wait is taken before the
	// next round: one slot never blocks it.
	clk := steppedClock{Fake: clock.NewFake(time.Now().Add(-metricsBackfill).Truncate(10 * time.Second)), waiting: make(chan struct{}, 1)}
	m := &playedMetrics{clock: clk, drv: drv,
		svc: metrics.New(st, drv, func(domain string) (string, bool) { return domain, ids.Valid("i", domain) }, clk, log)}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); m.svc.Run(ctx) }()
	t.Cleanup(func() { stop(); <-done })
	return m
}

// play runs metricsBackfill of 10 s rounds, the running guests busy
// between them. The first only reads the counters: deltas start at the
// second. It is played once, since the clock then is where the cloud began.
func (m *playedMetrics) play(t *testing.T) {
	t.Helper()
	wait := func() {
		select {
		case <-m.clock.waiting:
		case <-time.After(10 * time.Second):
			t.Fatal("the metrics service does not wait for its next round")
		}
	}
	for i := range int(metricsBackfill / (10 * time.Second)) {
		wait()
		running, err := m.drv.DomainStats(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range running {
			if err := m.drv.AddStats(d.Name, busy(i, d.VCPUs)); err != nil {
				t.Fatal(err)
			}
		}
		m.clock.Advance(10 * time.Second)
	}
	wait()
}

// busy is a guest's work in round i, rising and falling so that charts
// have a shape to show.
func busy(i, vcpus int) hypervisor.DomainStats {
	w := 1 + math.Sin(float64(i)/6) // 0 to 2
	return hypervisor.DomainStats{
		CPUTime:        time.Duration((0.05 + 0.3*w) * float64(vcpus) * float64(10*time.Second)),
		NetRxBytes:     uint64(w * 300 * 1024),
		NetTxBytes:     uint64(w * 120 * 1024),
		DiskReadBytes:  uint64(w * 2 * 1024 * 1024),
		DiskWriteBytes: uint64(w * 800 * 1024),
		DiskReadOps:    uint64(w * 160),
		DiskWriteOps:   uint64(w * 60),
	}
}
