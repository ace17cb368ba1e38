package api

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"kumo/hypervisor/fake"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/clock"
	"kumo/loadbalancer/manager"
	"kumo/store"
	"kumo/tags"
)

// benchAPI serves the API over a store that already holds n running
// instances of owner, on the fake hypervisor.
func benchAPI(b *testing.B, n int, owner string, opts Options) (*httptest.Server, string) {
	b.Helper()
	dir := b.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "kumo.db"))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { st.Close() })
	now := time.Now()
	const imageID = "ami-0000000000000000a"
	if err := st.InsertImage(ctx, store.Image{ID: imageID, Name: "tiny", State: "available", CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	rows := make([]store.Instance, n)
	for i := range rows {
		rows[i] = store.Instance{ID: fmt.Sprintf("i-%017x", i+1), Owner: owner, Name: "web", ImageID: imageID,
			Type: "t2.micro", State: "running", Host: "local", MAC: fmt.Sprintf("52:54:00:00:%02x:%02x", i/256, i%256),
			UserData: make([]byte, 512), LaunchedAt: now, UpdatedAt: now}
	}
	names := make([]store.Tag, n)
	for i, r := range rows {
		names[i] = store.Tag{ResourceID: r.ID, Key: "Name", Value: r.Name}
	}
	pool := store.Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/20")}
	if _, err := st.CreateInstances(ctx, store.Launch{Pool: pool, Instances: rows, Tags: names}); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	im, _ := images.New(st, filepath.Join(dir, "images"), clock.Real{}, log)
	svc := instances.New(instances.Config{DataDir: filepath.Join(dir, "instances"), MaxInstances: 100_000, MaxPerOwner: 100_000}, st, fake.New(fake.Options{}), im, clock.Real{}, log)
	b.Cleanup(svc.Close)
	opts.Tags = tags.New(st, map[string]tags.Resources{tags.Instance: svc})
	srv := httptest.NewServer(New(svc, im, manager.New(st, svc, manager.Config{}, clock.Real{}, log), log, opts))
	b.Cleanup(srv.Close)
	return srv, imageID
}

// median runs f 50 times per iteration and returns the median in ms.
func median(b *testing.B, f func() time.Duration) float64 {
	f() // warm the page cache and the connection
	b.ResetTimer()
	var samples []float64
	for range b.N {
		for range 50 {
			samples = append(samples, float64(f().Microseconds())/1000)
		}
	}
	slices.Sort(samples)
	return samples[len(samples)/2]
}

// BenchmarkList1000 measures GET /api/v1/instances with 1 000 instances
// recorded, through the whole HTTP stack, and reports the median.
func BenchmarkList1000(b *testing.B) {
	srv, _ := benchAPI(b, 1000, restAccount, Options{RESTAuth: headerAuth{}})
	b.ReportMetric(median(b, func() time.Duration {
		start := time.Now()
		resp, err := http.Get(srv.URL + "/api/v1/instances")
		if err != nil {
			b.Fatal(err)
		}
		n, _ := io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || n < 100_000 {
			b.Fatalf("list: %s, %d bytes", resp.Status, n)
		}
		return time.Since(start)
	}), "list1000_p50_ms")
}
