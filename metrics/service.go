package metrics

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"kumo/internal/clock"
	"kumo/store"
)

// tier is one resolution at which points are kept, and for how long: the
// resolutions and retentions of CloudWatch, which bound the store at about
// 8 640 + 21 600 + 1 512 points per series.
type tier struct {
	res  time.Duration
	keep time.Duration
}

// tiers are finest first; each resolution divides the next.
var tiers = []tier{
	{sampleEvery, 24 * time.Hour},
	{time.Minute, 15 * 24 * time.Hour},
	{time.Hour, 63 * 24 * time.Hour},
}

const (
	// sampleEvery is the samples' resolution: one reading per interval.
	sampleEvery = 10 * time.Second
	// maintainEvery is how often points are rolled up and expired. A
	// rollup writes a page per series, so it runs seldom; queries read
	// what it has not reached from the samples.
	maintainEvery = 5 * time.Minute
	// settle is how long after an interval its samples may still be
	// written: a sample is stamped with the start of its delta, at most
	// maxGap and one interval before it is stored.
	settle = maxGap + sampleEvery
)

// Service samples instances, keeps their points and answers queries. Run
// does the first two; Statistics is safe for concurrent use with it.
type Service struct {
	store   *store.Store
	sampler sampler
	clock   clock.Clock
	log     *slog.Logger
}

// New returns a service that reads src. instanceID says which instance a
// domain runs, and false for domains that run none (templates, other
// programs' guests): only instances are sampled.
func New(st *store.Store, src Source, instanceID func(domain string) (string, bool), clk clock.Clock, log *slog.Logger) *Service {
	return &Service{
		store:   st,
		sampler: sampler{source: src, instanceID: instanceID, clock: clk},
		clock:   clk,
		log:     log,
	}
}

// Run samples on every multiple of 10 s of the clock, so that each
// reading starts a sample's interval, and rolls points up and expires them
// every 5 minutes, until ctx ends. Failures are logged and the next round
// tries again. Run is called once.
func (s *Service) Run(ctx context.Context) {
	var nextMaintain time.Time
	for {
		now := s.clock.Now()
		select {
		case <-ctx.Done():
			return
		case <-s.clock.After(alignDown(now, sampleEvery).Add(sampleEvery).Sub(now)):
		}
		if err := s.sample(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sample instance metrics", "err", err)
		}
		if s.clock.Now().Before(nextMaintain) {
			continue
		}
		nextMaintain = s.clock.Now().Add(maintainEvery)
		if err := s.maintain(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("roll up and expire instance metrics", "err", err)
		}
	}
}

// sample reads the counters once and stores the points they give, also
// when the source failed for some domains.
func (s *Service) sample(ctx context.Context) error {
	points, err := s.sampler.read(ctx)
	if len(points) > 0 {
		err = errors.Join(err, s.store.AddMetricSamples(ctx, sampleEvery, points))
	}
	return err
}

// maintain rolls each tier up into the next, as far as its points are
// final, then deletes what each tier keeps no longer and the series left
// with nothing.
func (s *Service) maintain(ctx context.Context) error {
	now := s.clock.Now()
	var errs []error
	sampled, err := s.store.RollupMetricSamples(ctx, tiers[1].res, now.Add(-settle))
	until := sampled
	for i := 2; err == nil && i < len(tiers); i++ {
		until, err = s.store.RollupMetrics(ctx, tiers[i-1].res, tiers[i].res, until)
	}
	if err != nil {
		errs = append(errs, err)
	}
	if _, err := s.store.DeleteMetricSamples(ctx, now.Add(-tiers[0].keep)); err != nil {
		errs = append(errs, err)
	}
	for _, t := range tiers[1:] {
		if _, err := s.store.DeleteMetricPoints(ctx, t.res, now.Add(-t.keep)); err != nil {
			errs = append(errs, err)
		}
	}
	// Which series are idle is only known from how far samples are
	// rolled up.
	if !sampled.IsZero() {
		if _, err := s.store.DeleteIdleMetricSeries(ctx, sampled); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}

// Statistics answers q as GetMetricStatistics does: a datapoint per
// period that has data, oldest first. Input CloudWatch would refuse is an
// error of one of this package's Err kinds.
func (s *Service) Statistics(ctx context.Context, q Query) ([]Datapoint, error) {
	start, err := q.validate()
	if err != nil {
		return nil, err
	}
	marks, err := s.store.MetricRollupMarks(ctx)
	if err != nil {
		return nil, err
	}
	spans, err := plan(start, q.End, q.Period, s.clock.Now(), marks)
	if err != nil {
		return nil, err
	}
	key := store.MetricKey{Namespace: q.Namespace, Name: q.MetricName, Dimensions: dimensionsKey(q.Dimensions)}
	unit := unitOf(q.Namespace, q.MetricName)
	out := []Datapoint{}
	for _, sp := range spans {
		var points []store.MetricPoint
		if sp.res == tiers[0].res {
			points, err = s.store.MetricSampleBuckets(ctx, key, sp.res, sp.from, sp.to, q.Period)
		} else {
			points, err = s.store.MetricBuckets(ctx, key, sp.res, sp.from, sp.to, q.Period)
		}
		if err != nil {
			return nil, err
		}
		for _, p := range points {
			// A period that straddles two spans holds points of both.
			if n := len(out); n > 0 && out[n-1].Timestamp.Equal(p.Time) {
				out[n-1].StatSet = out[n-1].merge(fromStore(p))
				continue
			}
			out = append(out, Datapoint{Timestamp: p.Time, Unit: unit, StatSet: fromStore(p)})
		}
	}
	return out, nil
}
