package metrics

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"kumo/hypervisor"
	"kumo/internal/clock"
	"kumo/store"
)

// t0 is a multiple of every tier's resolution.
var t0 = time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)

// script is a Source that answers each read with the next of its rounds.
type script struct {
	rounds []round
	reads  int
}

type round struct {
	stats []hypervisor.DomainStats
	err   error
}

func (s *script) DomainStats(ctx context.Context) ([]hypervisor.DomainStats, error) {
	r := s.rounds[s.reads]
	s.reads++
	return slices.Clone(r.stats), r.err
}

// instancesOnly maps domains named like instances to themselves, as kumod
// does, and refuses the others.
func instancesOnly(domain string) (string, bool) { return domain, strings.HasPrefix(domain, "i-") }

// dom is a domain's counters after it has run for secs seconds at the
// given CPU load per vCPU and I/O rate per second.
func dom(name string, vcpus int, secs, load float64, rate uint64) hypervisor.DomainStats {
	n := uint64(secs)
	return hypervisor.DomainStats{Name: name, VCPUs: vcpus,
		CPUTime:       time.Duration(secs * load * float64(vcpus) * float64(time.Second)),
		DiskReadBytes: rate * n * 4096, DiskWriteBytes: rate * n * 512, DiskReadOps: rate * n, DiskWriteOps: rate * n * 2,
		NetRxBytes: rate * n * 1500, NetTxBytes: rate * n * 60}
}

// sampleAll reads every round of src, 10 s apart from t0, and returns the
// points of each round rendered as "name dims value@seconds-after-t0".
func sampleAll(t *testing.T, src *script) [][]string {
	t.Helper()
	clk := clock.NewFake(t0)
	s := sampler{source: src, instanceID: instancesOnly, clock: clk}
	var out [][]string
	for range src.rounds {
		points, err := s.read(context.Background())
		if err != nil {
			t.Logf("read %d: %v", len(out), err)
		}
		out = append(out, render(points))
		clk.Advance(10 * time.Second)
	}
	return out
}

func render(points []store.MetricPoint) []string {
	out := []string{}
	for _, p := range points {
		if p.Sum != p.Min || p.Sum != p.Max || p.Count != 1 {
			return []string{fmt.Sprintf("not a single sample: %+v", p)}
		}
		out = append(out, fmt.Sprintf("%s %s %g@%d", p.Key.Name, p.Key.Dimensions, p.Sum, int(p.Time.Sub(t0).Seconds())))
	}
	return out
}

func TestSamplerTurnsDeltasIntoPoints(t *testing.T) {
	got := sampleAll(t, &script{rounds: []round{
		{stats: []hypervisor.DomainStats{dom("i-1", 2, 100, 0.25, 3), dom("tmpl-x", 1, 100, 1, 1)}},
		{stats: []hypervisor.DomainStats{dom("i-1", 2, 110, 0.25, 3), dom("tmpl-x", 1, 110, 1, 1)}},
	}})
	want := [][]string{{}, {
		"CPUUtilization InstanceId=i-1 25@0",
		"NetworkIn InstanceId=i-1 45000@0", "NetworkOut InstanceId=i-1 1800@0",
		"DiskReadBytes InstanceId=i-1 122880@0", "DiskWriteBytes InstanceId=i-1 15360@0",
		"DiskReadOps InstanceId=i-1 30@0", "DiskWriteOps InstanceId=i-1 60@0",
	}}
	if !slices.EqualFunc(got, want, slices.Equal) {
		t.Fatalf("points\n %q, want\n %q", got, want)
	}
}

func TestSamplerCPUUtilizationBounds(t *testing.T) {
	got := sampleAll(t, &script{rounds: []round{
		{stats: []hypervisor.DomainStats{dom("i-busy", 1, 0, 0, 0), dom("i-novcpus", 0, 0, 0, 0)}},
		// QEMU's threads make i-busy use 12 s of CPU in 10 s on one vCPU;
		// i-novcpus comes from a driver that cannot count vCPUs.
		{stats: []hypervisor.DomainStats{dom("i-busy", 1, 10, 1.2, 0), dom("i-novcpus", 0, 10, 0, 0)}},
	}})
	var cpu []string
	for _, p := range got[1] {
		if strings.HasPrefix(p, CPUUtilization) {
			cpu = append(cpu, p)
		}
	}
	if want := []string{"CPUUtilization InstanceId=i-busy 100@0"}; !slices.Equal(cpu, want) {
		t.Fatalf("CPU points %q, want %q", cpu, want)
	}
	if len(got[1]) != 13 {
		t.Fatalf("%d points, want 7 for i-busy and 6 for i-novcpus: %q", len(got[1]), got[1])
	}
}

// A restarted domain's counters begin again at zero: the delta across the
// restart is skipped, not turned into negative or wrapped-around values,
// and its neighbour is not disturbed.
func TestSamplerSkipsCounterReset(t *testing.T) {
	// i-3 does no I/O: only its CPU time tells of its restart.
	got := sampleAll(t, &script{rounds: []round{
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 500, 0.5, 10), dom("i-2", 1, 500, 0.5, 1), dom("i-3", 1, 500, 0.5, 0)}},
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 5, 0.5, 10), dom("i-2", 1, 510, 0.5, 1), dom("i-3", 1, 5, 0.5, 0)}},
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 15, 0.5, 10), dom("i-2", 1, 520, 0.5, 1), dom("i-3", 1, 15, 0.5, 0)}},
	}})
	for i, pts := range got[1:] {
		for _, p := range pts {
			var v float64
			fmt.Sscanf(p[strings.LastIndex(p, " ")+1:], "%g@", &v)
			if v < 0 || v > 1e6 {
				t.Errorf("round %d: %s", i+1, p)
			}
		}
	}
	for _, id := range []string{"i-1", "i-3"} {
		if n := countFor(got[1], id); n != 0 {
			t.Errorf("%s gave %d points across its restart: %q", id, n, got[1])
		}
	}
	if n := countFor(got[1], "i-2"); n != 7 {
		t.Errorf("i-2 gave %d points beside i-1's restart, want 7", n)
	}
	if !slices.Contains(got[2], "NetworkIn InstanceId=i-1 150000@10") {
		t.Errorf("after its restart i-1 gave %q, want a delta from its new counters", got[2])
	}
}

func countFor(points []string, id string) int {
	n := 0
	for _, p := range points {
		if strings.Contains(p, "InstanceId="+id+" ") {
			n++
		}
	}
	return n
}

func TestSamplerForgetsDomainsThatDisappear(t *testing.T) {
	got := sampleAll(t, &script{rounds: []round{
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 10, 0.5, 1), dom("i-2", 1, 10, 0.5, 1)}},
		{stats: []hypervisor.DomainStats{dom("i-2", 1, 20, 0.5, 1)}},
		// i-1 is back (started again, or the source missed it): no delta
		// spans its absence.
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 30, 0.5, 1), dom("i-2", 1, 30, 0.5, 1)}},
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 40, 0.5, 1), dom("i-2", 1, 40, 0.5, 1)}},
	}})
	for i, want := range []struct{ i1, i2 int }{{0, 0}, {0, 7}, {0, 7}, {7, 7}} {
		if n1, n2 := countFor(got[i], "i-1"), countFor(got[i], "i-2"); n1 != want.i1 || n2 != want.i2 {
			t.Errorf("round %d: %d points of i-1 and %d of i-2, want %d and %d", i, n1, n2, want.i1, want.i2)
		}
	}
}

func TestSamplerSurvivesAFailingSource(t *testing.T) {
	boom := errors.New("libvirtd went away")
	src := &script{rounds: []round{
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 10, 0.5, 1), dom("i-2", 1, 10, 0.5, 1)}},
		{err: boom},
		// A partial answer: i-2 could not be read. Its points resume next
		// time, from the reading before the failures.
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 30, 0.5, 1)}, err: boom},
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 40, 0.5, 1), dom("i-2", 1, 40, 0.5, 1)}},
		// Down for longer than maxGap: the delta is dropped.
		{err: boom}, {err: boom}, {err: boom}, {err: boom}, {err: boom}, {err: boom},
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 110, 0.5, 1)}},
		{stats: []hypervisor.DomainStats{dom("i-1", 1, 120, 0.5, 1)}},
	}}
	clk := clock.NewFake(t0)
	s := sampler{source: src, instanceID: instancesOnly, clock: clk}
	var got [][]string
	for i := range src.rounds {
		points, err := s.read(context.Background())
		if (err != nil) != (src.rounds[i].err != nil) || err != nil && !errors.Is(err, boom) {
			t.Errorf("round %d: err %v", i, err)
		}
		got = append(got, render(points))
		clk.Advance(10 * time.Second)
	}
	if want := []string{"NetworkIn InstanceId=i-1 30000@0"}; !slices.Equal(pick(got[2], NetworkIn), want) {
		t.Errorf("partial round: %q, want %q", pick(got[2], NetworkIn), want)
	}
	want := []string{"NetworkIn InstanceId=i-1 15000@20", "NetworkIn InstanceId=i-2 45000@0"}
	if !slices.Equal(pick(got[3], NetworkIn), want) {
		t.Errorf("after the failures: %q, want %q", pick(got[3], NetworkIn), want)
	}
	if len(got[10]) != 0 {
		t.Errorf("a delta over %s was kept: %q", 70*time.Second, got[10])
	}
	if want := []string{"NetworkIn InstanceId=i-1 15000@100"}; !slices.Equal(pick(got[11], NetworkIn), want) {
		t.Errorf("after the outage: %q, want %q", pick(got[11], NetworkIn), want)
	}
}

func pick(points []string, name string) []string {
	out := []string{}
	for _, p := range points {
		if strings.HasPrefix(p, name+" ") {
			out = append(out, p)
		}
	}
	slices.Sort(out)
	return out
}
