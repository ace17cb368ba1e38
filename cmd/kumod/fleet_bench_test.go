package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"slices"
	"sync"
	"testing"
	"time"

	"kumo/api/wire"
	"kumo/instances"
)

// launchOverAPI launches n instances of typ, one per POST, from clients
// sending at once, and returns each request's latency.
func (c *simCloud) launchOverAPI(tb testing.TB, n, clients int, typ string) []time.Duration {
	one := 1
	body, err := json.Marshal(wire.RunRequest{Image: c.image, Type: typ, Count: &one, Name: "bench"})
	if err != nil {
		tb.Fatal(err)
	}
	jobs := make(chan int, n)
	for i := range n {
		jobs <- i
	}
	close(jobs)
	latencies := make([]time.Duration, n)
	var wg sync.WaitGroup
	for range clients {
		wg.Go(func() {
			for i := range jobs {
				start := time.Now()
				resp, err := http.Post(c.api.URL+"/api/v1/instances", "application/json", bytes.NewReader(body))
				if err != nil {
					tb.Error(err)
					return
				}
				answer, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				latencies[i] = time.Since(start)
				if resp.StatusCode != http.StatusCreated {
					tb.Errorf("launch: %s: %s", resp.Status, answer)
					return
				}
			}
		})
	}
	wg.Wait()
	return latencies
}

// launchInBatches launches n instances of typ through the instance
// service, batch at a time (MinCount = MaxCount), and returns the errors
// of the launches that failed: the run goes on past them, so that it
// shows both how far the fleet got and why it fell short.
//
// The launches follow one another, as from one client: with several at
// once, each queues on SQLite's write lock behind the converges of the
// others' instances, and past a few thousand instances a launch waits out
// the store's busy timeout and fails.
func (c *simCloud) launchInBatches(n, batch int, typ string) []error {
	var failed []error
	for range n / batch {
		req := instances.RunRequest{Image: c.image, Type: typ, MinCount: batch, MaxCount: batch}
		if _, err := c.svc.For(simOwner).Run(context.Background(), req); err != nil {
			failed = append(failed, err)
		}
	}
	return failed
}

// waitRunning waits until n instances have reached running.
func (c *simCloud) waitRunning(tb testing.TB, n int) {
	tb.Helper()
	const timeout = 5 * time.Minute
	for deadline := time.Now().Add(timeout); c.running.Load() < int64(n); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatalf("%d of %d instances running after %s", c.running.Load(), n, timeout)
		}
	}
}

// check verifies the fleet once n instances have launched: each is
// listed, running, on the host its capacity claim is on, and no host is
// booked past its capacity.
func (c *simCloud) check(tb testing.TB, n int) {
	tb.Helper()
	ctx := context.Background()
	list, err := c.fleet.List(ctx)
	if err != nil {
		tb.Fatal(err)
	}
	nameOf := map[string]string{}
	for _, h := range list {
		nameOf[h.ID] = h.Name
		if h.Used.VCPUs > h.Capacity.VCPUs || h.Used.MemoryMiB > h.Capacity.MemoryMiB {
			tb.Errorf("host %s holds %+v of %+v", h.Name, h.Used, h.Capacity)
		}
	}
	claims, err := c.store.Claims(ctx, "")
	if err != nil {
		tb.Fatal(err)
	}
	hostOf := map[string]string{}
	for _, cl := range claims {
		hostOf[cl.InstanceID] = nameOf[cl.HostID]
	}
	all, err := c.svc.For(simOwner).List(ctx, nil)
	if err != nil {
		tb.Fatal(err)
	}
	if len(all) != n || len(claims) != n {
		tb.Fatalf("%d instances listed and %d claims, want %d", len(all), len(claims), n)
	}
	for _, in := range all {
		if in.Host == "" || in.Host != hostOf[in.ID] || in.State != instances.Running {
			tb.Fatalf("instance %s is %s on %q, its claim on %q", in.ID, in.State, in.Host, hostOf[in.ID])
		}
	}
}

// listOverAPI counts the instances GET /api/v1/instances answers, and
// times the request.
func (c *simCloud) listOverAPI(tb testing.TB) (int, time.Duration) {
	tb.Helper()
	start := time.Now()
	resp, err := http.Get(c.api.URL + "/api/v1/instances")
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		tb.Fatalf("list: %s", resp.Status)
	}
	var out wire.Instances
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		tb.Fatal(err)
	}
	return len(out.Instances), time.Since(start)
}

// percentile is the p-th quantile of sorted by the nearest-rank method.
func percentile(sorted []time.Duration, p float64) time.Duration {
	return sorted[max(0, int(math.Ceil(p*float64(len(sorted))))-1)]
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

// BenchmarkLaunch100On20Hosts launches 100 instances over the REST API,
// one per request from 10 clients at once, on 20 hosts of 8 CPUs and 32
// GiB, each iteration on a fresh cloud. It reports the time until all 100
// requests are answered and until all 100 instances run, and the latency
// of one request.
func BenchmarkLaunch100On20Hosts(b *testing.B) {
	const launches, clients = 100, 10
	var latencies []time.Duration
	var answered, running time.Duration
	for range b.N {
		b.StopTimer()
		c := newSimCloud(b, simFleet{Hosts: 20, CPUs: 8, MemoryMiB: 32 * 1024})
		b.StartTimer()
		start := time.Now()
		latencies = append(latencies, c.launchOverAPI(b, launches, clients, "t2.micro")...)
		answered += time.Since(start)
		c.waitRunning(b, launches)
		running += time.Since(start)
		b.StopTimer()
		c.check(b, launches)
	}
	slices.Sort(latencies)
	b.ReportMetric(ms(answered)/float64(b.N), "launch100_total_ms")
	b.ReportMetric(ms(running)/float64(b.N), "launch100_running_ms")
	b.ReportMetric(ms(percentile(latencies, 0.50)), "launch_p50_ms")
	b.ReportMetric(ms(percentile(latencies, 0.99)), "launch_p99_ms")
}

// scaleRun is where a run at scale spent its time.
type scaleRun struct {
	register, launch, converge, list time.Duration
	instances                        int
}

// fleetAtScale launches count t2.micro instances in launches of 50 on
// hostCount hosts of 16 CPUs and 64 GiB (64 t2.micro each), waits for them
// to run, checks the fleet and lists them over the API. A failed launch
// fails the run once the others are checked.
func fleetAtScale(tb testing.TB, hostCount, count int) scaleRun {
	const batch = 50
	start := time.Now()
	c := newSimCloud(tb, simFleet{Hosts: hostCount, CPUs: 16, MemoryMiB: 64 * 1024})
	var r scaleRun
	r.register = time.Since(start)
	start = time.Now()
	failed := c.launchInBatches(count, batch, "t2.micro")
	r.launch = time.Since(start)
	r.instances = count - len(failed)*batch
	start = time.Now()
	c.waitRunning(tb, r.instances)
	r.converge = time.Since(start)
	c.check(tb, r.instances)
	var listed int
	if listed, r.list = c.listOverAPI(tb); listed != r.instances {
		tb.Errorf("the API lists %d instances, want %d", listed, r.instances)
	}
	tb.Logf("%d hosts registered in %s; %d instances launched in %s (%s each), all running %s later; the API lists them in %s",
		hostCount, r.register.Round(time.Millisecond), r.instances, r.launch.Round(time.Millisecond),
		(r.launch / time.Duration(max(1, r.instances))).Round(time.Microsecond), r.converge.Round(time.Millisecond), r.list.Round(time.Millisecond))
	if len(failed) > 0 {
		tb.Errorf("%d of %d launches failed; the first: %v", len(failed), count/batch, failed[0])
	}
	return r
}

// TestFleetOf200HostsAnd1000Instances is the run at scale sized for
// every test run; BenchmarkFleetOf1000Hosts is the full one.
func TestFleetOf200HostsAnd1000Instances(t *testing.T) {
	fleetAtScale(t, 200, 1000)
}

// BenchmarkFleetOf1000Hosts is kumod at the scale it claims: 1 000 hosts
// and 50 000 instances. It runs once whatever b.N: one run takes minutes.
func BenchmarkFleetOf1000Hosts(b *testing.B) {
	r := fleetAtScale(b, 1000, 50000)
	b.ReportMetric(r.register.Seconds(), "register_s")
	b.ReportMetric(r.launch.Seconds(), "launch_s")
	b.ReportMetric(ms(r.launch)/float64(max(1, r.instances)), "launch_ms/instance")
	b.ReportMetric(r.converge.Seconds(), "running_after_s")
	b.ReportMetric(ms(r.list), "list_all_ms")
}
