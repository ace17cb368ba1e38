package metrics

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"kumo/hypervisor"
	"kumo/internal/clock"
)

// host is a Source of n busy domains whose counters grow with the clock.
type host struct {
	clock clock.Clock
	names []string
}

func newHost(clk clock.Clock, n int) *host {
	h := &host{clock: clk}
	for i := range n {
		h.names = append(h.names, fmt.Sprintf("i-%017x", i))
	}
	return h
}

func (h *host) DomainStats(ctx context.Context) ([]hypervisor.DomainStats, error) {
	secs := h.clock.Now().Sub(t0).Seconds()
	out := make([]hypervisor.DomainStats, len(h.names))
	for i, name := range h.names {
		out[i] = dom(name, 2, secs, 0.3, uint64(i+1))
	}
	return out, nil
}

// cpuTime is the CPU time the process has used, every thread together:
// what sampling costs the host, fsync waits left out.
func cpuTime(b *testing.B) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// One round of sampling 100 instances: read, 700 points, one transaction.
// The budget is 2% of a core at a round every 10 s, 200 ms of CPU.
func BenchmarkSampleRound100(b *testing.B) {
	e := newTestEnv(b, nil)
	e.svc.sampler.source = newHost(e.clock, 100)
	ctx := context.Background()
	if err := e.svc.sample(ctx); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	cpu := cpuTime(b)
	for b.Loop() {
		e.clock.Advance(10 * time.Second)
		if err := e.svc.sample(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N), "cpu-ns/op")
	b.ReportMetric(float64(cpuTime(b)-cpu)/float64(b.N)/float64(10*time.Second)*100, "%core")
}

// Queries of one instance's CPUUtilization among a host of 100 sampled
// instances: a day at 60 s (1 440 datapoints, from minutes and the samples
// not rolled up yet) and the last hour at 10 s (360, from the samples of
// every series).
func BenchmarkQuery(b *testing.B) {
	e := newTestEnv(b, nil)
	day := 24 * time.Hour
	e.addSamples(b, t0, t0.Add(day+time.Hour), 10*time.Second)
	e.clock.Advance(day)
	e.svc.sampler.source = newHost(e.clock, 100)
	ctx := context.Background()
	for range 360 {
		if err := e.svc.sample(ctx); err != nil {
			b.Fatal(err)
		}
		e.clock.Advance(10 * time.Second)
	}
	e.maintain(b)
	now := e.clock.Now()
	for _, bc := range []struct {
		name   string
		span   time.Duration
		period time.Duration
	}{
		{"day at 60 s", day, time.Minute},
		{"hour at 10 s", time.Hour, 10 * time.Second},
	} {
		b.Run(bc.name, func(b *testing.B) {
			q := cpuQuery(now.Add(-bc.span), now, bc.period, Average, Maximum)
			want := int(bc.span / bc.period)
			b.ReportAllocs()
			for b.Loop() {
				got, err := e.svc.Statistics(ctx, q)
				if err != nil || len(got) != want {
					b.Fatalf("%d datapoints, %v; want %d", len(got), err, want)
				}
			}
		})
	}
}
