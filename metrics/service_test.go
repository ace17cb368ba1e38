package metrics

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"kumo/hypervisor"
	"kumo/internal/clock"
	"kumo/store"
)

type testEnv struct {
	svc   *Service
	clock *clock.Fake
	store *store.Store
	db    *sql.DB // the same database, to look at what the store keeps
}

func newTestEnv(t testing.TB, src Source) *testEnv {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kumo.db")
	st, err := store.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	db, err := sql.Open("sqlite3", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	clk := clock.NewFake(t0)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	return &testEnv{svc: New(st, src, instancesOnly, clk, log), clock: clk, store: st, db: db}
}

var cpuKey = store.MetricKey{Namespace: NamespaceEC2, Name: CPUUtilization, Dimensions: "InstanceId=i-1"}

// sample is one raw sample of cpuKey.
type sample struct {
	at time.Time
	v  float64
}

// addSamples stores a 10 s sample of cpuKey for each step of the range.
// The values are multiples of 1/4, whose sums are exact in any order, so
// that raw and rolled-up answers can be compared for equality.
func (e *testEnv) addSamples(t testing.TB, from, to time.Time, step time.Duration) []sample {
	t.Helper()
	var out []sample
	var batch []store.MetricPoint
	for i, at := 0, from; at.Before(to); i, at = i+1, at.Add(step) {
		v := float64(i%97) + float64(i%4)/4
		out = append(out, sample{at, v})
		batch = append(batch, store.MetricPoint{Key: cpuKey, Time: at, Sum: v, Min: v, Max: v, Count: 1})
	}
	if err := e.store.AddMetricSamples(context.Background(), 10*time.Second, batch); err != nil {
		t.Fatal(err)
	}
	return out
}

// expected computes the answer to a query from the samples themselves.
func expected(samples []sample, start, end time.Time, period time.Duration) []Datapoint {
	out := []Datapoint{}
	for _, s := range samples {
		if s.at.Before(alignDown(start, period)) || !s.at.Before(end) {
			continue
		}
		set := StatSet{Sum: s.v, Min: s.v, Max: s.v, Count: 1}
		b := alignDown(s.at, period)
		if n := len(out); n > 0 && out[n-1].Timestamp.Equal(b) {
			out[n-1].StatSet = out[n-1].merge(set)
			continue
		}
		out = append(out, Datapoint{Timestamp: b, Unit: UnitPercent, StatSet: set})
	}
	return out
}

func (e *testEnv) maintain(t testing.TB) {
	t.Helper()
	if err := e.svc.maintain(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// pointsByResolution counts what the store keeps per tier, with the
// oldest point of each.
func (e *testEnv) pointsByResolution(t testing.TB) map[time.Duration][2]int64 {
	t.Helper()
	rows, err := e.db.Query(`SELECT resolution, COUNT(*), MIN(ts) FROM metric_points GROUP BY resolution
		UNION ALL SELECT 10, COUNT(*), MIN(ts) FROM metric_samples HAVING COUNT(*) > 0`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[time.Duration][2]int64{}
	for rows.Next() {
		var res, n, oldest int64
		if err := rows.Scan(&res, &n, &oldest); err != nil {
			t.Fatal(err)
		}
		out[time.Duration(res)*time.Second] = [2]int64{n, oldest}
	}
	return out
}

// Every statistic of every period is the same whether it is read from raw
// points, from raw and rolled-up ones together, from minutes or from
// hours, and equal to what the samples themselves give.
func TestDownsamplingIsExact(t *testing.T) {
	e := newTestEnv(t, nil)
	start, end := t0.Add(-20*time.Minute), t0.Add(3*time.Hour+10*time.Minute)
	samples := e.addSamples(t, start, end, 10*time.Second)
	check := func(when string, periods ...time.Duration) {
		t.Helper()
		for _, p := range periods {
			q := cpuQuery(start, end, p, Average, Sum, Minimum, Maximum, SampleCount)
			got, err := e.svc.Statistics(context.Background(), q)
			if err != nil {
				t.Fatalf("%s, period %s: %v", when, p, err)
			}
			if want := expected(samples, start, end, p); !reflect.DeepEqual(got, want) {
				t.Fatalf("%s, period %s:\n got %+v\nwant %+v", when, p, got, want)
			}
		}
	}
	e.clock.Advance(4 * time.Hour)
	check("raw", 10*time.Second, time.Minute, 5*time.Minute, time.Hour)
	e.maintain(t)
	if marks, _ := e.store.MetricRollupMarks(context.Background()); !marks[time.Hour].After(start) {
		t.Fatalf("nothing rolled up to hours: %v", marks)
	}
	check("rolled up, raw points kept", 10*time.Second, time.Minute, 5*time.Minute, time.Hour)
	e.clock.Advance(2 * 24 * time.Hour)
	e.maintain(t)
	if kept := e.pointsByResolution(t); kept[10*time.Second][0] != 0 {
		t.Fatalf("raw points kept after two days: %v", kept)
	}
	check("from minutes", time.Minute, 5*time.Minute, time.Hour)
	e.clock.Advance(20 * 24 * time.Hour)
	e.maintain(t)
	if kept := e.pointsByResolution(t); kept[time.Minute][0] != 0 || kept[time.Hour][0] == 0 {
		t.Fatalf("after 22 days: %v", kept)
	}
	check("from hours", time.Hour, 3*time.Hour)
	if _, err := e.svc.Statistics(context.Background(), cpuQuery(start, end, time.Minute, Average)); !errors.Is(err, ErrInvalidPeriod) {
		t.Fatalf("minutes of data kept in hours: %v", err)
	}
}

// A delta that spans a failed read is stamped with its start, which is
// when its minute may already be over: rolling up waits for it.
func TestRollupWaitsForLatePoints(t *testing.T) {
	i1 := func(secs float64) []hypervisor.DomainStats {
		return []hypervisor.DomainStats{dom("i-1", 1, secs, 0.5, 1)}
	}
	boom := errors.New("boom")
	src := &script{rounds: []round{{stats: i1(40)}, {stats: i1(50)}, {err: boom}, {err: boom}, {err: boom}, {stats: i1(90)}}}
	for range 20 {
		src.rounds = append(src.rounds, round{stats: i1(90 + 10*float64(len(src.rounds)-5))})
	}
	e := newTestEnv(t, src)
	e.clock.Advance(40 * time.Second)
	// As Run does: a read, then upkeep, every 10 s.
	for range src.rounds {
		if err := e.svc.sample(context.Background()); err != nil && !errors.Is(err, boom) {
			t.Fatal(err)
		}
		e.maintain(t)
		e.clock.Advance(10 * time.Second)
	}
	q := cpuQuery(t0, t0.Add(3*time.Minute), time.Minute, SampleCount, Sum)
	q.MetricName = NetworkIn
	raw, err := e.svc.Statistics(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	e.clock.Advance(2 * 24 * time.Hour)
	e.maintain(t)
	rolled, err := e.svc.Statistics(context.Background(), q)
	if err != nil {
		t.Fatal(err)
	}
	for i := range raw {
		raw[i].Unit = UnitBytes
	}
	// The first minute holds 40→50 s and the late 50→90 s.
	if len(raw) == 0 || raw[0].Count != 2 || raw[0].Sum != 15000+60000 || !reflect.DeepEqual(raw, rolled) {
		t.Fatalf("from raw points %+v, from minutes %+v", raw, rolled)
	}
}

// Rolling up is safe to repeat: a second run, or one after a restart that
// lost nothing but the time, changes no point.
func TestMaintainTwiceChangesNothing(t *testing.T) {
	e := newTestEnv(t, nil)
	e.addSamples(t, t0, t0.Add(2*time.Hour), 10*time.Second)
	e.clock.Advance(2*time.Hour + 5*time.Minute)
	dump := func() string {
		rows, err := e.db.Query(`SELECT series_id, resolution, ts, sum, min, max, count FROM metric_points
			UNION ALL SELECT series_id, 10, ts, sum, min, max, count FROM metric_samples ORDER BY 1, 2, 3`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var out string
		for rows.Next() {
			var id, res, ts, n int64
			var sum, lo, hi float64
			rows.Scan(&id, &res, &ts, &sum, &lo, &hi, &n)
			out += fmt.Sprintln(id, res, ts, sum, lo, hi, n)
		}
		return out
	}
	e.maintain(t)
	once := dump()
	e.maintain(t)
	e.clock.Advance(time.Second)
	e.maintain(t)
	if twice := dump(); twice != once {
		t.Fatalf("a second rollup changed the points:\n%s\nthen\n%s", once, twice)
	}
	kept := e.pointsByResolution(t)
	if kept[time.Minute][0] != 120 || kept[time.Hour][0] != 2 {
		t.Fatalf("kept %v, want 120 minutes and 2 hours", kept)
	}
}

// However long kumod runs, each tier keeps only its own retention.
func TestRetentionBoundsTheStore(t *testing.T) {
	e := newTestEnv(t, nil)
	day := 24 * time.Hour
	// A sample every 5 minutes for 70 days, maintained every 6 hours.
	for d := time.Duration(0); d < 70*day; d += 6 * time.Hour {
		e.addSamples(t, t0.Add(d), t0.Add(d+6*time.Hour), 5*time.Minute)
		e.clock.Advance(6 * time.Hour)
		e.maintain(t)
	}
	now := e.clock.Now()
	kept := e.pointsByResolution(t)
	for _, tr := range tiers {
		n, oldest := kept[tr.res][0], kept[tr.res][1]
		if n == 0 {
			t.Errorf("%s: nothing kept", tr.res)
			continue
		}
		if limit := now.Add(-tr.keep); time.Unix(oldest, 0).Before(limit) {
			t.Errorf("%s: oldest point at %s, before %s", tr.res, time.Unix(oldest, 0).UTC(), limit)
		}
		// One sample per 5 minutes: no tier holds more than its retention's
		// worth of them.
		if most := int64(tr.keep/max(tr.res, 5*time.Minute)) + 1; n > most {
			t.Errorf("%s: %d points, more than %d", tr.res, n, most)
		}
	}

	// A series whose points have all expired goes too.
	e.clock.Advance(64 * day)
	e.maintain(t)
	var series int
	e.db.QueryRow(`SELECT COUNT(*) FROM metric_series`).Scan(&series)
	if kept := e.pointsByResolution(t); len(kept) != 0 || series != 0 {
		t.Fatalf("64 days after the last sample: points %v, %d series", kept, series)
	}
}

// steady is a Source whose domains have worked at a steady pace since t0.
// With fail set, it fails to read i-2.
type steady struct {
	clock clock.Clock
	fail  error
}

func (c *steady) DomainStats(ctx context.Context) ([]hypervisor.DomainStats, error) {
	secs := c.clock.Now().Sub(t0).Seconds()
	i1, i2 := dom("i-1", 1, secs, 0.5, 1), dom("i-2", 2, secs, 0.25, 2)
	if c.fail != nil {
		return []hypervisor.DomainStats{i1}, c.fail
	}
	return []hypervisor.DomainStats{i1, i2, dom("tmpl-1", 1, secs, 1, 1)}, nil
}

// stepped says when Run waits on it, so that a test moves time only then
// and every round happens at a known time.
type stepped struct {
	*clock.Fake
	waiting chan struct{}
}

func (c stepped) After(d time.Duration) <-chan time.Time {
	ch := c.Fake.After(d)
	c.waiting <- struct{}{}
	return ch
}

func TestRunSamplesUntilCancelled(t *testing.T) {
	e := newTestEnv(t, nil)
	clk := stepped{e.clock, make(chan struct{})}
	src := &steady{clock: clk}
	svc := New(e.store, src, instancesOnly, clk, slog.New(slog.NewTextHandler(io.Discard, nil)))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		svc.Run(ctx)
		close(done)
	}()
	wait := func() {
		t.Helper()
		select {
		case <-clk.waiting:
		case <-time.After(10 * time.Second):
			t.Fatal("Run does not wait on the clock")
		}
	}
	for round := 1; round <= 8; round++ {
		wait()
		if round == 7 {
			src.fail = errors.New("one domain failed")
		}
		e.clock.Advance(10 * time.Second)
	}
	wait()
	cancel()
	<-done

	get := func(id string) []Datapoint {
		q := cpuQuery(t0, e.clock.Now(), time.Hour, Average, SampleCount)
		q.Dimensions[0].Value = id
		got, err := svc.Statistics(context.Background(), q)
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	// 8 reads give 7 deltas; i-2 is missing from the last two reads.
	if got := get("i-1"); len(got) != 1 || got[0].Count != 7 || got[0].Value(Average) != 50 {
		t.Errorf("i-1: %+v, want 7 samples of 50%%", got)
	}
	if got := get("i-2"); len(got) != 1 || got[0].Count != 5 || got[0].Value(Average) != 25 {
		t.Errorf("i-2: %+v, want 5 samples of 25%%", got)
	}
	var series int
	e.db.QueryRow(`SELECT COUNT(*) FROM metric_series WHERE dimensions LIKE '%tmpl%'`).Scan(&series)
	if series != 0 {
		t.Errorf("%d series of a domain that runs no instance", series)
	}
}
