package metrics

import (
	"context"
	"time"

	"kumo/hypervisor"
	"kumo/internal/clock"
	"kumo/store"
)

// Source reads the cumulative counters of every running domain of a host
// at once; drivers that are a hypervisor.StatsReader are Sources. With an
// error it may still return the domains it could read.
type Source interface {
	DomainStats(ctx context.Context) ([]hypervisor.DomainStats, error)
}

// maxGap is the longest interval a delta may span. A longer one (the
// source failed for a while) is dropped: its samples would land in
// intervals already rolled up, and its bytes would show as one spike.
const maxGap = time.Minute

// sampler turns successive readings of a Source into samples: each
// domain's counters against its previous reading.
type sampler struct {
	source Source
	// instanceID says which instance a domain runs, false for domains that
	// run none.
	instanceID func(domain string) (string, bool)
	clock      clock.Clock
	last       map[string]reading // by domain name
}

type reading struct {
	at    time.Time
	stats hypervisor.DomainStats
	dims  string // the instance's dimensions, as the store knows them
}

// read reads the source once and returns a sample per metric for every
// instance that was also read last time. A domain that is gone is
// forgotten; one whose counters went back (it restarted) gives nothing
// this time and counts from its new values.
func (s *sampler) read(ctx context.Context) ([]store.MetricPoint, error) {
	stats, err := s.source.DomainStats(ctx)
	now := s.clock.Now()
	next := make(map[string]reading, len(stats))
	if err != nil {
		// A failed read says nothing about the domains it did not return.
		for name, r := range s.last {
			next[name] = r
		}
	}
	points := make([]store.MetricPoint, 0, len(ec2Units)*len(stats))
	for _, st := range stats {
		id, ok := s.instanceID(st.Name)
		if !ok {
			continue
		}
		cur := reading{at: now, stats: st}
		prev, seen := s.last[st.Name]
		if seen {
			cur.dims = prev.dims
		} else {
			cur.dims = dimensionsKey([]Dimension{{DimensionInstanceID, id}})
		}
		next[st.Name] = cur
		if seen {
			points = appendDeltas(points, prev, cur)
		}
	}
	s.last = next
	return points, err
}

// appendDeltas appends the samples of the interval between two readings
// of one domain, stamped with its start.
func appendDeltas(points []store.MetricPoint, prev, cur reading) []store.MetricPoint {
	elapsed := cur.at.Sub(prev.at)
	p, c := prev.stats, cur.stats
	if elapsed <= 0 || elapsed > maxGap || c.CPUTime < p.CPUTime ||
		c.DiskReadBytes < p.DiskReadBytes || c.DiskWriteBytes < p.DiskWriteBytes ||
		c.DiskReadOps < p.DiskReadOps || c.DiskWriteOps < p.DiskWriteOps ||
		c.NetRxBytes < p.NetRxBytes || c.NetTxBytes < p.NetTxBytes {
		return points
	}
	point := func(name string, v float64) store.MetricPoint {
		return store.MetricPoint{
			Key:  store.MetricKey{Namespace: NamespaceEC2, Name: name, Dimensions: cur.dims},
			Time: prev.at, Sum: v, Min: v, Max: v, Count: 1,
		}
	}
	if c.VCPUs > 0 {
		cpu := float64(c.CPUTime-p.CPUTime) / (float64(elapsed) * float64(c.VCPUs)) * 100
		// CPU time counts QEMU's own threads too, which can push a busy
		// guest a little past its vCPUs' wall time.
		points = append(points, point(CPUUtilization, min(cpu, 100)))
	}
	return append(points,
		point(NetworkIn, float64(c.NetRxBytes-p.NetRxBytes)),
		point(NetworkOut, float64(c.NetTxBytes-p.NetTxBytes)),
		point(DiskReadBytes, float64(c.DiskReadBytes-p.DiskReadBytes)),
		point(DiskWriteBytes, float64(c.DiskWriteBytes-p.DiskWriteBytes)),
		point(DiskReadOps, float64(c.DiskReadOps-p.DiskReadOps)),
		point(DiskWriteOps, float64(c.DiskWriteOps-p.DiskWriteOps)))
}
