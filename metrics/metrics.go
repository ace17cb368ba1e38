// Package metrics keeps instance metrics the way CloudWatch does. It
// samples every running instance's counters every 10 seconds, turns their
// deltas into datapoints named as AWS/EC2 names them, keeps those in the
// store at three resolutions of bounded retention, and answers
// GetMetricStatistics-style queries over them.
//
// It owns the metric model (a series is a namespace, a metric name and
// dimensions; a datapoint is a statistic set, so that rolling points up
// loses no statistic), the tiers with their rollup and retention, and the
// rules of a query. It reads counters through Source and must not know how
// they are read (libvirt), what an instance's lifecycle is, or the API:
// its caller says which domain runs which instance.
package metrics

import (
	"net/url"
	"slices"
	"strings"
	"time"

	"kumo/store"
)

// NamespaceEC2 is the namespace of the metrics kumo measures itself, and
// DimensionInstanceID the dimension that names their instance.
const (
	NamespaceEC2        = "AWS/EC2"
	DimensionInstanceID = "InstanceId"
)

// The AWS/EC2 metrics kumo keeps. Byte and operation metrics count what
// happened during a datapoint's interval, as CloudWatch reports them.
const (
	CPUUtilization = "CPUUtilization"
	NetworkIn      = "NetworkIn"
	NetworkOut     = "NetworkOut"
	DiskReadBytes  = "DiskReadBytes"
	DiskWriteBytes = "DiskWriteBytes"
	DiskReadOps    = "DiskReadOps"
	DiskWriteOps   = "DiskWriteOps"
)

// Unit is what a datapoint's values measure, with CloudWatch's names.
type Unit string

const (
	UnitPercent Unit = "Percent"
	UnitBytes   Unit = "Bytes"
	UnitCount   Unit = "Count"
	UnitNone    Unit = "None"
)

var ec2Units = map[string]Unit{
	CPUUtilization: UnitPercent,
	NetworkIn:      UnitBytes, NetworkOut: UnitBytes,
	DiskReadBytes: UnitBytes, DiskWriteBytes: UnitBytes,
	DiskReadOps: UnitCount, DiskWriteOps: UnitCount,
}

func unitOf(namespace, name string) Unit {
	if u, ok := ec2Units[name]; ok && namespace == NamespaceEC2 {
		return u
	}
	return UnitNone
}

// Dimension narrows a metric to one resource, or one group of them.
type Dimension struct {
	Name  string
	Value string
}

// dimensionsKey is the text the store knows a set of dimensions by: the
// same whatever their order, escaped so that no two sets read the same,
// and readable in the sqlite3 shell ("InstanceId=i-0123456789abcdef0").
func dimensionsKey(dims []Dimension) string {
	sorted := slices.Clone(dims)
	slices.SortFunc(sorted, func(a, b Dimension) int { return strings.Compare(a.Name, b.Name) })
	parts := make([]string, len(sorted))
	for i, d := range sorted {
		parts[i] = url.QueryEscape(d.Name) + "=" + url.QueryEscape(d.Value)
	}
	return strings.Join(parts, "&")
}

// Statistic is how a query sums up the samples of a period.
type Statistic string

const (
	Average     Statistic = "Average"
	Sum         Statistic = "Sum"
	Minimum     Statistic = "Minimum"
	Maximum     Statistic = "Maximum"
	SampleCount Statistic = "SampleCount"
)

var statistics = []Statistic{Average, Sum, Minimum, Maximum, SampleCount}

// StatSet is what a datapoint holds, CloudWatch's StatisticSet. Merging
// sets gives exactly the set of all their samples, which is why every
// statistic is the same whether a period is read from raw or rolled-up
// points.
type StatSet struct {
	Sum   float64
	Min   float64
	Max   float64
	Count int64
}

func (s StatSet) merge(o StatSet) StatSet {
	return StatSet{Sum: s.Sum + o.Sum, Min: min(s.Min, o.Min), Max: max(s.Max, o.Max), Count: s.Count + o.Count}
}

// Value is the statistic of the set; 0 for an unknown one.
func (s StatSet) Value(stat Statistic) float64 {
	switch stat {
	case Average:
		if s.Count == 0 {
			return 0
		}
		return s.Sum / float64(s.Count)
	case Sum:
		return s.Sum
	case Minimum:
		return s.Min
	case Maximum:
		return s.Max
	case SampleCount:
		return float64(s.Count)
	}
	return 0
}

// Datapoint is one period of a query's answer.
type Datapoint struct {
	Timestamp time.Time // the start of the period
	Unit      Unit
	StatSet
}

func fromStore(p store.MetricPoint) StatSet {
	return StatSet{Sum: p.Sum, Min: p.Min, Max: p.Max, Count: p.Count}
}
