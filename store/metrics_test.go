package store

import (
	"context"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"
)

var (
	cpuKey = MetricKey{Namespace: "AWS/EC2", Name: "CPUUtilization", Dimensions: "InstanceId=i-1"}
	netKey = MetricKey{Namespace: "AWS/EC2", Name: "NetworkIn", Dimensions: "InstanceId=i-1"}
	// m0 starts an hour, so minutes and hours line up with it.
	m0 = time.Date(2026, 1, 2, 3, 0, 0, 0, time.UTC)
)

const tenSeconds = 10 * time.Second

func one(k MetricKey, at time.Time, v float64) MetricPoint {
	return MetricPoint{Key: k, Time: at, Sum: v, Min: v, Max: v, Count: 1}
}

// merge is what a rollup makes of two points of a bucket.
func (p MetricPoint) merge(o MetricPoint) MetricPoint {
	return MetricPoint{Time: p.Time, Sum: p.Sum + o.Sum, Min: min(p.Min, o.Min), Max: max(p.Max, o.Max), Count: p.Count + o.Count}
}

// buckets reads k's points of resolution res, or its samples when res is
// 0.
func buckets(t *testing.T, s *Store, k MetricKey, res time.Duration, from, to time.Time, period time.Duration) []MetricPoint {
	t.Helper()
	var got []MetricPoint
	var err error
	if res == 0 {
		got, err = s.MetricSampleBuckets(context.Background(), k, tenSeconds, from, to, period)
	} else {
		got, err = s.MetricBuckets(context.Background(), k, res, from, to, period)
	}
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func addSamples(t *testing.T, s *Store, samples ...MetricPoint) {
	t.Helper()
	if err := s.AddMetricSamples(context.Background(), tenSeconds, samples); err != nil {
		t.Fatal(err)
	}
}

func TestAddMetricSamplesMergesWithinAnInterval(t *testing.T) {
	s := openTest(t)
	// Two samples in one 10 s interval (a late round, then a punctual
	// one), and another series that must stay apart.
	addSamples(t, s, one(cpuKey, m0.Add(3*time.Second), 40), one(netKey, m0, 1000), one(cpuKey, m0.Add(10*time.Second), 5))
	addSamples(t, s, one(cpuKey, m0.Add(9*time.Second), 20))
	got := buckets(t, s, cpuKey, 0, m0, m0.Add(time.Minute), tenSeconds)
	want := []MetricPoint{
		{Time: m0, Sum: 60, Min: 20, Max: 40, Count: 2},
		{Time: m0.Add(10 * time.Second), Sum: 5, Min: 5, Max: 5, Count: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("cpu buckets\n %+v, want\n %+v", got, want)
	}
	var series int
	s.db.QueryRow(`SELECT COUNT(*) FROM metric_series`).Scan(&series)
	if series != 2 {
		t.Fatalf("%d series, want 2", series)
	}
}

// rawHours adds an hour and a half of 10 s samples to cpuKey, each value
// different so that any sample lost or counted twice shows, and samples of
// netKey, which must not leak into cpuKey's answers.
func rawHours(t *testing.T, s *Store) {
	t.Helper()
	var pts []MetricPoint
	for i := range 540 {
		at := m0.Add(time.Duration(i) * tenSeconds)
		pts = append(pts, one(cpuKey, at, float64(i%97)+0.25), one(netKey, at, 1e6))
	}
	addSamples(t, s, pts...)
}

func TestRollupIsExactAndRunsOnce(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rawHours(t, s)
	until := m0.Add(80*time.Minute + 30*time.Second)
	mark, err := s.RollupMetricSamples(ctx, time.Minute, until)
	if err != nil {
		t.Fatal(err)
	}
	// The minute that holds until is not over: it waits.
	if !mark.Equal(m0.Add(80 * time.Minute)) {
		t.Fatalf("mark %s, want %s", mark, m0.Add(80*time.Minute))
	}
	for _, period := range []time.Duration{time.Minute, 5 * time.Minute, time.Hour} {
		raw := buckets(t, s, cpuKey, 0, m0, mark, period)
		rolled := buckets(t, s, cpuKey, time.Minute, m0, mark, period)
		if len(raw) == 0 || !reflect.DeepEqual(raw, rolled) {
			t.Fatalf("period %s: from samples\n %+v\nfrom minutes\n %+v", period, raw, rolled)
		}
	}
	before := buckets(t, s, cpuKey, time.Minute, m0, m0.Add(2*time.Hour), time.Minute)
	if len(before) != 80 {
		t.Fatalf("%d minutes rolled up, want 80", len(before))
	}

	// Again with the same horizon: nothing to do. Then as after a crash
	// that lost the mark but kept the points: every minute is computed
	// again and replaces itself.
	if mark2, err := s.RollupMetricSamples(ctx, time.Minute, until); err != nil || !mark2.Equal(mark) {
		t.Fatalf("second run: %s, %v", mark2, err)
	}
	if _, err := s.db.Exec(`DELETE FROM metric_rollups`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RollupMetricSamples(ctx, time.Minute, until); err != nil {
		t.Fatal(err)
	}
	if after := buckets(t, s, cpuKey, time.Minute, m0, m0.Add(2*time.Hour), time.Minute); !reflect.DeepEqual(after, before) {
		t.Fatalf("recomputed minutes differ:\n %+v\n %+v", after, before)
	}

	// Hours from minutes: only the complete one.
	hmark, err := s.RollupMetrics(ctx, time.Minute, time.Hour, mark)
	if err != nil || !hmark.Equal(m0.Add(time.Hour)) {
		t.Fatalf("hour mark %s, %v; want %s", hmark, err, m0.Add(time.Hour))
	}
	hour := buckets(t, s, cpuKey, time.Hour, m0, hmark, time.Hour)
	if raw := buckets(t, s, cpuKey, 0, m0, hmark, time.Hour); !reflect.DeepEqual(hour, raw) || hour[0].Count != 360 {
		t.Fatalf("hour from minutes %+v, from samples %+v", hour, raw)
	}
	marks, err := s.MetricRollupMarks(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := map[time.Duration]time.Time{time.Minute: mark, time.Hour: hmark}; !reflect.DeepEqual(marks, want) {
		t.Fatalf("marks %v, want %v", marks, want)
	}

	// A minute computed again after a sample joined it holds the sample,
	// once.
	addSamples(t, s, one(cpuKey, m0.Add(5*time.Second), 1000))
	if _, err := s.db.Exec(`DELETE FROM metric_rollups`); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RollupMetricSamples(ctx, time.Minute, until); err != nil {
		t.Fatal(err)
	}
	first := buckets(t, s, cpuKey, time.Minute, m0, m0.Add(time.Minute), time.Minute)
	if want := before[0].merge(one(cpuKey, m0, 1000)); len(first) != 1 || first[0] != want {
		t.Fatalf("minute with a late sample %+v, want %+v", first, want)
	}
}

func TestDeleteMetricsByAge(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	rawHours(t, s)
	if _, err := s.RollupMetricSamples(ctx, time.Minute, m0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	n, err := s.DeleteMetricSamples(ctx, m0.Add(30*time.Minute))
	if err != nil || n != 360 {
		t.Fatalf("deleted %d samples, %v; want 360 (180 of each series)", n, err)
	}
	if got := buckets(t, s, cpuKey, 0, m0, m0.Add(2*time.Hour), tenSeconds); len(got) != 360 || !got[0].Time.Equal(m0.Add(30*time.Minute)) {
		t.Fatalf("%d samples left from %s, want 360 from %s", len(got), got[0].Time, m0.Add(30*time.Minute))
	}
	if got := buckets(t, s, cpuKey, time.Minute, m0, m0.Add(2*time.Hour), time.Hour); got[0].Count != 360 {
		t.Fatalf("minutes lost with the samples: %+v", got)
	}
	if n, err := s.DeleteMetricPoints(ctx, time.Minute, m0.Add(10*time.Minute)); err != nil || n != 20 {
		t.Fatalf("deleted %d minutes, %v; want 10 of each series", n, err)
	}

	// A series with points, or samples not yet rolled up, stays; one with
	// neither goes. Here the caller says samples are rolled up further
	// than they are, as a clock set back would: the sample left behind
	// must not stop the next rollup.
	freshKey := MetricKey{Namespace: "AWS/EC2", Name: "NetworkIn", Dimensions: "InstanceId=i-2"}
	goneKey := MetricKey{Namespace: "AWS/EC2", Name: "NetworkIn", Dimensions: "InstanceId=i-3"}
	addSamples(t, s, one(freshKey, m0.Add(100*time.Minute), 1), one(goneKey, m0.Add(70*time.Minute), 1))
	if n, err := s.DeleteIdleMetricSeries(ctx, m0.Add(90*time.Minute)); err != nil || n != 1 {
		t.Fatalf("deleted %d idle series, %v; want 1", n, err)
	}
	var left []string
	rows, _ := s.db.Query(`SELECT dimensions || ' ' || name FROM metric_series ORDER BY 1`)
	for rows.Next() {
		var k string
		rows.Scan(&k)
		left = append(left, k)
	}
	rows.Close()
	if want := []string{"InstanceId=i-1 CPUUtilization", "InstanceId=i-1 NetworkIn", "InstanceId=i-2 NetworkIn"}; !reflect.DeepEqual(left, want) {
		t.Fatalf("series left %q, want %q", left, want)
	}
	if _, err := s.RollupMetricSamples(ctx, time.Minute, m0.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got := buckets(t, s, freshKey, time.Minute, m0, m0.Add(2*time.Hour), time.Hour); len(got) != 1 || got[0].Count != 1 {
		t.Fatalf("minutes of the fresh series %+v", got)
	}
}

func TestMetricBucketsAlignToTheEpoch(t *testing.T) {
	s := openTest(t)
	rawHours(t, s)
	if _, err := s.RollupMetricSamples(context.Background(), time.Minute, m0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	// 7 minutes do not divide an hour: buckets start at multiples of 7
	// minutes since 1970, not at from.
	from, to := m0.Add(10*time.Minute), m0.Add(40*time.Minute)
	for _, res := range []time.Duration{0, time.Minute} {
		got := buckets(t, s, cpuKey, res, from, to, 7*time.Minute)
		var total int64
		for _, p := range got {
			if p.Time.Unix()%420 != 0 {
				t.Errorf("bucket at %s is not a multiple of 7 minutes", p.Time)
			}
			total += p.Count
		}
		if total != 180 {
			t.Errorf("buckets of resolution %s hold %d samples, want the 180 in [from, to)", res, total)
		}
		if first := got[0].Time; first.After(from) || !first.Add(7*time.Minute).After(from) {
			t.Errorf("first bucket at %s does not hold from (%s)", first, from)
		}
	}
}

// Statements over every series must seek ranges of the keys: a scan of
// the points or the samples would cost the whole table every minute.
func TestMetricStatementsUseTheKey(t *testing.T) {
	s := openTest(t)
	for _, tc := range []struct {
		name, query, want string
	}{
		{"rollup of samples", rollupSamplesSQL, "SEARCH metric_samples USING PRIMARY KEY (ts>? AND ts<?)"},
		{"rollup of points", rollupPointsSQL, "SEARCH metric_points USING PRIMARY KEY (series_id=? AND resolution=? AND ts>? AND ts<?)"},
		{"expiry of samples", expireSamplesSQL, "SEARCH metric_samples USING PRIMARY KEY (ts<?)"},
		{"expiry of points", expirePointsSQL, "SEARCH metric_points USING PRIMARY KEY (series_id=? AND resolution=? AND ts<?)"},
		{"idle series", idleSeriesSQL, "SEARCH metric_samples USING PRIMARY KEY (ts>?)"},
		{"sample buckets", sampleBucketsSQL, "SEARCH p USING PRIMARY KEY (ts=? AND series_id=?)"},
		{"point buckets", pointBucketsSQL, "SEARCH p USING PRIMARY KEY (series_id=? AND resolution=? AND ts>? AND ts<?)"},
	} {
		// Values for the parameters, which the plan does not depend on.
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+tc.query, 1, 2, 3, 4, 5, 6, 7)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "; ")
		if !strings.Contains(text, tc.want) || strings.Contains(text, "SCAN metric_points") || strings.Contains(text, "SCAN metric_samples") ||
			strings.Contains(text, "SCAN p") {
			t.Errorf("%s: plan %s, want %s", tc.name, text, tc.want)
		}
	}
}

// A round of sampling 100 instances: 700 samples in one transaction.
func BenchmarkAddMetricSamples(b *testing.B) {
	s, err := Open(context.Background(), b.TempDir()+"/kumo.db")
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	names := []string{"CPUUtilization", "NetworkIn", "NetworkOut", "DiskReadBytes", "DiskWriteBytes", "DiskReadOps", "DiskWriteOps"}
	round := func(at time.Time) []MetricPoint {
		var pts []MetricPoint
		for i := range 100 {
			for _, n := range names {
				pts = append(pts, one(MetricKey{"AWS/EC2", n, fmt.Sprintf("InstanceId=i-%017x", i)}, at, 42))
			}
		}
		return pts
	}
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		if err := s.AddMetricSamples(context.Background(), tenSeconds, round(m0.Add(time.Duration(i)*tenSeconds))); err != nil {
			b.Fatal(err)
		}
	}
}
