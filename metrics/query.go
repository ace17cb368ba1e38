package metrics

import (
	"fmt"
	"slices"
	"time"

	"kumo/internal/errs"
)

// Query asks for the statistics of one series, per period, over a time
// range: CloudWatch's GetMetricStatistics.
type Query struct {
	Namespace  string
	MetricName string
	Dimensions []Dimension
	// Start is rounded down to a multiple of Period since the epoch, and
	// each datapoint covers [Timestamp, Timestamp+Period). End is
	// exclusive.
	Start, End time.Time
	// Period is 10 s, 30 s or a multiple of 60 s; data older than a tier's
	// retention is only kept at the next resolution, and the period must
	// then be a multiple of that (60 s after a day, 1 h after 15 days).
	Period     time.Duration
	Statistics []Statistic
}

// Kinds of refused queries. Each wraps the errs kind the API maps to a
// status, so callers need not know this package to answer them.
var (
	ErrMissingParameter  = fmt.Errorf("metrics: %w", errs.MissingParameter)
	ErrInvalidPeriod     = fmt.Errorf("metrics: period: %w", errs.InvalidParameter)
	ErrInvalidTimeRange  = fmt.Errorf("metrics: time range: %w", errs.InvalidParameter)
	ErrTooManyDatapoints = fmt.Errorf("metrics: too many datapoints: %w", errs.InvalidParameter)
	ErrUnknownStatistic  = fmt.Errorf("metrics: statistic: %w", errs.InvalidParameter)
	ErrInvalidDimensions = fmt.Errorf("metrics: dimensions: %w", errs.InvalidParameter)
)

// CloudWatch's limits on one query.
const (
	maxDatapoints = 1440
	maxStatistics = 5
	maxDimensions = 30
)

// validate checks q as CloudWatch would and returns its start rounded down
// to the period.
func (q Query) validate() (time.Time, error) {
	switch {
	case q.Namespace == "":
		return time.Time{}, errs.New(ErrMissingParameter, "the namespace is required")
	case q.MetricName == "":
		return time.Time{}, errs.New(ErrMissingParameter, "the metric name is required")
	case len(q.Statistics) == 0:
		return time.Time{}, errs.New(ErrMissingParameter, "at least one statistic is required")
	case q.Start.IsZero() || q.End.IsZero():
		return time.Time{}, errs.New(ErrMissingParameter, "the start and end times are required")
	}
	if len(q.Statistics) > maxStatistics {
		return time.Time{}, errs.New(ErrUnknownStatistic, "at most %d statistics, not %d", maxStatistics, len(q.Statistics))
	}
	for _, s := range q.Statistics {
		if !slices.Contains(statistics, s) {
			return time.Time{}, errs.New(ErrUnknownStatistic, "unknown statistic %q; valid ones are %v", s, statistics)
		}
	}
	if err := validateDimensions(q.Dimensions); err != nil {
		return time.Time{}, err
	}
	p := q.Period
	if p <= 0 || p%time.Second != 0 || p%time.Minute != 0 && p != 10*time.Second && p != 30*time.Second {
		return time.Time{}, errs.New(ErrInvalidPeriod, "the period must be 10 s, 30 s or a multiple of 60 s, not %s", p)
	}
	if !q.Start.Before(q.End) {
		return time.Time{}, errs.New(ErrInvalidTimeRange, "the start time %s must be before the end time %s",
			q.Start.UTC().Format(time.RFC3339), q.End.UTC().Format(time.RFC3339))
	}
	start := alignDown(q.Start, p)
	if n := (q.End.Sub(start) + p - 1) / p; n > maxDatapoints {
		return time.Time{}, errs.New(ErrTooManyDatapoints, "the query asks for %d datapoints, more than the limit of %d: "+
			"use a longer period or a shorter time range", n, maxDatapoints)
	}
	return start, nil
}

func validateDimensions(dims []Dimension) error {
	if len(dims) > maxDimensions {
		return errs.New(ErrInvalidDimensions, "at most %d dimensions, not %d", maxDimensions, len(dims))
	}
	seen := map[string]bool{}
	for _, d := range dims {
		if d.Name == "" || d.Value == "" {
			return errs.New(ErrInvalidDimensions, "a dimension needs a name and a value, not %q=%q", d.Name, d.Value)
		}
		if seen[d.Name] {
			return errs.New(ErrInvalidDimensions, "dimension %q is given twice", d.Name)
		}
		seen[d.Name] = true
	}
	return nil
}

// alignDown rounds t down to a multiple of d since the epoch, which is
// where CloudWatch starts its periods.
func alignDown(t time.Time, d time.Duration) time.Time {
	n := t.UnixNano()
	r := n % int64(d)
	if r < 0 {
		r += int64(d)
	}
	return time.Unix(0, n-r).UTC()
}

// span is a stretch of a query read from one tier.
type span struct {
	res      time.Duration
	from, to time.Time
}

// plan picks where [start, end) is read from at now. The finest tier that
// still keeps start says which periods are possible. The answer is then
// the same from any tier whose resolution divides the period, so it is
// read from the coarsest, which has the fewest rows, up to where that tier
// is rolled up (marks), then from each finer tier up to its own mark, the
// samples to the end. No point is read twice, and the newest data is
// there before it is rolled up.
func plan(start, end time.Time, period time.Duration, now time.Time, marks map[time.Duration]time.Time) ([]span, error) {
	finest := 0
	for finest < len(tiers)-1 && start.Before(now.Add(-tiers[finest].keep)) {
		finest++
	}
	if period%tiers[finest].res != 0 {
		return nil, errs.New(ErrInvalidPeriod, "data from %s is kept at a resolution of %s: the period must be a multiple of it, not %s",
			start.UTC().Format(time.RFC3339), tiers[finest].res, period)
	}
	i := len(tiers) - 1
	for period%tiers[i].res != 0 {
		i--
	}
	var spans []span
	from := start
	for ; i > 0; i-- {
		if to := minTime(marks[tiers[i].res], end); to.After(from) {
			spans = append(spans, span{tiers[i].res, from, to})
			from = to
		}
	}
	if end.After(from) {
		spans = append(spans, span{tiers[0].res, from, end})
	}
	return spans, nil
}

func minTime(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}
