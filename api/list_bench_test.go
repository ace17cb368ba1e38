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
)

// BenchmarkList1000 measures GET /api/v1/instances with 1 000 instances
// recorded, through the whole HTTP stack, and reports the median.
func BenchmarkList1000(b *testing.B) {
	dir := b.TempDir()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(dir, "kumo.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	now := time.Now()
	if err := st.InsertImage(ctx, store.Image{ID: "ami-0000000000000000a", Name: "tiny", State: "available", CreatedAt: now}); err != nil {
		b.Fatal(err)
	}
	rows := make([]store.Instance, 1000)
	for i := range rows {
		rows[i] = store.Instance{ID: fmt.Sprintf("i-%017x", i+1), Name: "web", ImageID: "ami-0000000000000000a",
			Type: "t2.micro", State: "running", Host: "local", MAC: fmt.Sprintf("52:54:00:00:%02x:%02x", i/256, i%256),
			UserData: make([]byte, 512), LaunchedAt: now, UpdatedAt: now}
	}
	pool := store.Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/20")}
	if _, err := st.CreateInstances(ctx, pool, 0, rows); err != nil {
		b.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	im, _ := images.New(st, filepath.Join(dir, "images"), clock.Real{}, log)
	svc := instances.New(instances.Config{DataDir: filepath.Join(dir, "instances")}, st, fake.New(fake.Options{}), im, clock.Real{}, log)
	srv := httptest.NewServer(New(svc, im, manager.New(st, svc, manager.Config{}, clock.Real{}, log), log, Options{}))
	defer srv.Close()

	get := func() time.Duration {
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
	}
	get() // warm the page cache and the connection
	b.ResetTimer()
	var samples []float64
	for range b.N {
		for range 50 {
			samples = append(samples, float64(get().Microseconds())/1000)
		}
	}
	slices.Sort(samples)
	b.ReportMetric(samples[len(samples)/2], "list1000_p50_ms")
}
