package metrics

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"kumo/internal/errs"
)

func cpuQuery(start, end time.Time, period time.Duration, stats ...Statistic) Query {
	return Query{Namespace: NamespaceEC2, MetricName: CPUUtilization,
		Dimensions: []Dimension{{DimensionInstanceID, "i-1"}}, Start: start, End: end, Period: period, Statistics: stats}
}

func TestQueryValidation(t *testing.T) {
	ok := cpuQuery(t0, t0.Add(time.Hour), time.Minute, Average)
	with := func(change func(*Query)) Query {
		q := ok
		change(&q)
		return q
	}
	for _, tc := range []struct {
		name string
		q    Query
		kind error // nil: accepted
	}{
		{"valid", ok, nil},
		{"high resolution", with(func(q *Query) { q.Period = 10 * time.Second }), nil},
		{"thirty seconds", with(func(q *Query) { q.Period = 30 * time.Second }), nil},
		{"five minutes, all statistics", with(func(q *Query) {
			q.Period, q.Statistics = 5*time.Minute, []Statistic{Average, Sum, Minimum, Maximum, SampleCount}
		}), nil},
		{"exactly the datapoint limit", with(func(q *Query) { q.End = q.Start.Add(1440 * time.Minute) }), nil},
		{"period of 20 s", with(func(q *Query) { q.Period = 20 * time.Second }), ErrInvalidPeriod},
		{"period of 90 s", with(func(q *Query) { q.Period = 90 * time.Second }), ErrInvalidPeriod},
		{"period not whole seconds", with(func(q *Query) { q.Period = time.Minute + time.Millisecond }), ErrInvalidPeriod},
		{"no period", with(func(q *Query) { q.Period = 0 }), ErrInvalidPeriod},
		{"negative period", with(func(q *Query) { q.Period = -time.Minute }), ErrInvalidPeriod},
		{"start after end", with(func(q *Query) { q.Start, q.End = q.End, q.Start }), ErrInvalidTimeRange},
		{"start equals end", with(func(q *Query) { q.End = q.Start }), ErrInvalidTimeRange},
		{"one datapoint too many", with(func(q *Query) { q.End = q.Start.Add(1441 * time.Minute) }), ErrTooManyDatapoints},
		// 1 440 minutes from the start, but rounding the start down to the
		// period makes it 1 441 periods.
		{"too many after rounding", with(func(q *Query) {
			q.Start, q.End = t0.Add(30*time.Second), t0.Add(1440*time.Minute+30*time.Second)
		}), ErrTooManyDatapoints},
		{"unknown statistic", with(func(q *Query) { q.Statistics = []Statistic{"p99"} }), ErrUnknownStatistic},
		{"statistic in lower case", with(func(q *Query) { q.Statistics = []Statistic{"average"} }), ErrUnknownStatistic},
		{"six statistics", with(func(q *Query) { q.Statistics = []Statistic{Sum, Sum, Sum, Sum, Sum, Sum} }), ErrUnknownStatistic},
		{"no statistic", with(func(q *Query) { q.Statistics = nil }), ErrMissingParameter},
		{"no metric name", with(func(q *Query) { q.MetricName = "" }), ErrMissingParameter},
		{"no namespace", with(func(q *Query) { q.Namespace = "" }), ErrMissingParameter},
		{"no start", with(func(q *Query) { q.Start = time.Time{} }), ErrMissingParameter},
		{"dimension twice", with(func(q *Query) {
			q.Dimensions = []Dimension{{DimensionInstanceID, "i-1"}, {DimensionInstanceID, "i-2"}}
		}), ErrInvalidDimensions},
		{"dimension without value", with(func(q *Query) { q.Dimensions = []Dimension{{DimensionInstanceID, ""}} }), ErrInvalidDimensions},
	} {
		_, err := tc.q.validate()
		switch {
		case tc.kind == nil && err != nil:
			t.Errorf("%s: %v", tc.name, err)
		case tc.kind == nil:
		case !errors.Is(err, tc.kind):
			t.Errorf("%s: %v, want %v", tc.name, err, tc.kind)
		case !errors.Is(err, errs.InvalidParameter) && !errors.Is(err, errs.MissingParameter):
			t.Errorf("%s: %v is of no kind the API knows", tc.name, err)
		}
	}
}

// CloudWatch starts periods at multiples of the period since the epoch,
// and the first one holds the start.
func TestQueryStartIsAlignedToThePeriod(t *testing.T) {
	for _, tc := range []struct {
		start  time.Time
		period time.Duration
		want   time.Time
	}{
		{t0.Add(7 * time.Second), 10 * time.Second, t0},
		{t0.Add(59 * time.Second), time.Minute, t0},
		{t0.Add(time.Minute), time.Minute, t0.Add(time.Minute)},
		{t0.Add(100 * time.Minute), time.Hour, t0.Add(time.Hour)},
		// t0 is 60 s past a multiple of 7 minutes since the epoch, so
		// 7-minute periods start at 23:59 the day before, not at the start
		// or at midnight.
		{t0.Add(time.Minute), 7 * time.Minute, t0.Add(-time.Minute)},
	} {
		start, err := cpuQuery(tc.start, tc.start.Add(time.Hour), tc.period, Sum).validate()
		if err != nil || !start.Equal(tc.want) {
			t.Errorf("start %s, period %s: %s, %v; want %s", tc.start, tc.period, start, err, tc.want)
		}
	}
}

func TestPlanReadsTheCoarsestTierThePeriodAllows(t *testing.T) {
	now := t0.Add(100 * 24 * time.Hour)
	mm, mh := now.Add(-2*time.Minute), now.Add(-90*time.Minute).Truncate(time.Hour)
	marks := map[time.Duration]time.Time{time.Minute: mm, time.Hour: mh}
	day := 24 * time.Hour
	for _, tc := range []struct {
		name       string
		start, end time.Time
		period     time.Duration
		want       []span
		kind       error
	}{
		{"the last hour at 10 s: samples", now.Add(-time.Hour), now, 10 * time.Second,
			[]span{{10 * time.Second, now.Add(-time.Hour), now}}, nil},
		{"the last hour at 30 s: samples", now.Add(-time.Hour), now, 30 * time.Second,
			[]span{{10 * time.Second, now.Add(-time.Hour), now}}, nil},
		{"the last day at 60 s: minutes, then samples past their mark", now.Add(-day), now, time.Minute,
			[]span{{time.Minute, now.Add(-day), mm}, {10 * time.Second, mm, now}}, nil},
		{"two days ago to one: minutes only", now.Add(-2 * day), now.Add(-day), 5 * time.Minute,
			[]span{{time.Minute, now.Add(-2 * day), now.Add(-day)}}, nil},
		{"10 s of data kept in minutes", now.Add(-2 * day), now, 10 * time.Second, nil, ErrInvalidPeriod},
		{"the last 3 hours at 1 h: hours, minutes, samples", now.Add(-3 * time.Hour), now, time.Hour,
			[]span{{time.Hour, now.Add(-3 * time.Hour), mh}, {time.Minute, mh, mm}, {10 * time.Second, mm, now}}, nil},
		{"a month at 1 h", now.Add(-30 * day), now, time.Hour,
			[]span{{time.Hour, now.Add(-30 * day), mh}, {time.Minute, mh, mm}, {10 * time.Second, mm, now}}, nil},
		{"minutes of a month ago", now.Add(-30 * day), now, time.Minute, nil, ErrInvalidPeriod},
		{"older than anything kept: hours", now.Add(-90 * day), now.Add(-80 * day), time.Hour,
			[]span{{time.Hour, now.Add(-90 * day), now.Add(-80 * day)}}, nil},
	} {
		got, err := plan(tc.start, tc.end, tc.period, now, marks)
		if tc.kind != nil {
			if !errors.Is(err, tc.kind) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.kind)
			}
			continue
		}
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}

	// Before any rollup, what is still kept is read from the samples.
	got, err := plan(now.Add(-day), now, time.Hour, now, nil)
	if want := []span{{10 * time.Second, now.Add(-day), now}}; err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("without marks: %v, %v; want %v", got, err, want)
	}
}
