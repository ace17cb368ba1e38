package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// MetricKey names a metric series as CloudWatch does: namespace, metric
// name and dimensions. Dimensions is text the metrics package makes
// canonical; the store compares it as it is.
type MetricKey struct {
	Namespace  string
	Name       string
	Dimensions string
}

// MetricPoint is a statistic set of one series over one interval, which
// is what lets points merge exactly into coarser ones. Times are whole
// seconds, and a point's Time is the start of its interval.
//
// The store keeps points in two layouts. Samples, the finest points, are
// written every few seconds for every series at once, so they are kept in
// time order, where a round is appended in a few pages. Rolled-up points
// are read a series at a time over long ranges, so they are kept in series
// order.
type MetricPoint struct {
	Key   MetricKey // empty in the answers of the bucket queries
	Time  time.Time
	Sum   float64
	Min   float64
	Max   float64
	Count int64
}

const (
	addSampleSQL = `INSERT INTO metric_samples (ts, series_id, sum, min, max, count) VALUES (?,?,?,?,?,?)
		ON CONFLICT (ts, series_id) DO UPDATE SET sum = sum + excluded.sum,
			min = min(min, excluded.min), max = max(max, excluded.max), count = count + excluded.count`
	// The series check keeps a sample whose series was deleted under it
	// from failing every later rollup on the points' foreign key.
	rollupSamplesSQL = `INSERT OR REPLACE INTO metric_points (series_id, resolution, ts, sum, min, max, count)
		SELECT series_id, ?1, ts - ts % ?1, SUM(sum), MIN(min), MAX(max), SUM(count) FROM metric_samples
		WHERE ts >= ?2 AND ts < ?3 AND series_id IN (SELECT id FROM metric_series)
		GROUP BY series_id, ts - ts % ?1`
	// Statements over the points of every series go through the series
	// table, so that they seek each series' range in the points' key.
	rollupPointsSQL = `INSERT OR REPLACE INTO metric_points (series_id, resolution, ts, sum, min, max, count)
		SELECT series_id, ?1, ts - ts % ?1, SUM(sum), MIN(min), MAX(max), SUM(count) FROM metric_points
		WHERE series_id IN (SELECT id FROM metric_series) AND resolution = ?4 AND ts >= ?2 AND ts < ?3
		GROUP BY series_id, ts - ts % ?1`
	expireSamplesSQL = `DELETE FROM metric_samples WHERE ts < ?`
	expirePointsSQL  = `DELETE FROM metric_points
		WHERE series_id IN (SELECT id FROM metric_series) AND resolution = ? AND ts < ?`
	idleSeriesSQL = `DELETE FROM metric_series
		WHERE NOT EXISTS (SELECT 1 FROM metric_points WHERE series_id = metric_series.id)
			AND id NOT IN (SELECT series_id FROM metric_samples WHERE ts >= ?)`
	// Samples are in time order: one series' are found by seeking each
	// interval of the range rather than by reading every series' samples
	// in it.
	sampleBucketsSQL = `WITH RECURSIVE t(ts) AS (SELECT ?5 UNION ALL SELECT ts + ?7 FROM t WHERE ts + ?7 < ?6)
		SELECT p.ts - p.ts % ?1, SUM(p.sum), MIN(p.min), MAX(p.max), SUM(p.count) FROM t JOIN metric_samples p ON p.ts = t.ts
		WHERE p.series_id = (SELECT id FROM metric_series WHERE namespace = ?2 AND name = ?3 AND dimensions = ?4)
		GROUP BY 1 ORDER BY 1`
	pointBucketsSQL = `SELECT p.ts - p.ts % ?1, SUM(p.sum), MIN(p.min), MAX(p.max), SUM(p.count)
		FROM metric_series s JOIN metric_points p ON p.series_id = s.id
		WHERE s.namespace = ?2 AND s.name = ?3 AND s.dimensions = ?4 AND p.ts >= ?5 AND p.ts < ?6 AND p.resolution = ?7
		GROUP BY 1 ORDER BY 1`
)

// AddMetricSamples records samples in one transaction, creating their
// series as needed. Each Time is rounded down to a multiple of resolution,
// which must be the same for every call, and a sample that lands where
// its series already has one is merged into it.
func (s *Store) AddMetricSamples(ctx context.Context, resolution time.Duration, samples []MetricPoint) error {
	res := seconds(resolution)
	return s.tx(ctx, func(tx *sql.Tx) error {
		find, err := tx.PrepareContext(ctx, `SELECT id FROM metric_series WHERE namespace = ? AND name = ? AND dimensions = ?`)
		if err != nil {
			return fmt.Errorf("add metric samples: %w", err)
		}
		defer find.Close()
		add, err := tx.PrepareContext(ctx, addSampleSQL)
		if err != nil {
			return fmt.Errorf("add metric samples: %w", err)
		}
		defer add.Close()
		for _, p := range samples {
			var id int64
			err := find.QueryRowContext(ctx, p.Key.Namespace, p.Key.Name, p.Key.Dimensions).Scan(&id)
			if errors.Is(err, sql.ErrNoRows) {
				id, err = createSeries(ctx, tx, p.Key)
			}
			if err != nil {
				return fmt.Errorf("metric series %s %s %s: %w", p.Key.Namespace, p.Key.Name, p.Key.Dimensions, err)
			}
			ts := p.Time.Unix()
			if _, err := add.ExecContext(ctx, ts-ts%res, id, p.Sum, p.Min, p.Max, p.Count); err != nil {
				return fmt.Errorf("add metric sample of %s %s %s: %w", p.Key.Namespace, p.Key.Name, p.Key.Dimensions, err)
			}
		}
		return nil
	})
}

func createSeries(ctx context.Context, tx *sql.Tx, k MetricKey) (int64, error) {
	r, err := tx.ExecContext(ctx, `INSERT INTO metric_series (namespace, name, dimensions) VALUES (?,?,?)`, k.Namespace, k.Name, k.Dimensions)
	if err != nil {
		return 0, err
	}
	return r.LastInsertId()
}

// RollupMetricSamples makes points of resolution to from the samples; see
// rollup.
func (s *Store) RollupMetricSamples(ctx context.Context, to time.Duration, until time.Time) (time.Time, error) {
	return s.rollup(ctx, to, until, rollupSamplesSQL)
}

// RollupMetrics makes points of resolution to from those of resolution
// from; see rollup.
func (s *Store) RollupMetrics(ctx context.Context, from, to time.Duration, until time.Time) (time.Time, error) {
	return s.rollup(ctx, to, until, rollupPointsSQL, seconds(from))
}

// rollup computes the points of resolution to for each of its intervals
// that ends by until and was not rolled up before, and returns how far to
// is now rolled up. Progress is recorded in the transaction that writes
// the points, and each interval is computed whole and replaces what was
// there, so a crash or a second run never counts a point twice.
func (s *Store) rollup(ctx context.Context, to time.Duration, until time.Time, query string, args ...any) (time.Time, error) {
	step := seconds(to)
	hi := until.Unix() - until.Unix()%step
	var done int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		err := tx.QueryRowContext(ctx, `SELECT done_until FROM metric_rollups WHERE resolution = ?`, step).Scan(&done)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("rollup metrics to %s: %w", to, err)
		}
		if hi <= done {
			return nil
		}
		if _, err := tx.ExecContext(ctx, query, append([]any{step, done, hi}, args...)...); err != nil {
			return fmt.Errorf("rollup metrics to %s: %w", to, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO metric_rollups (resolution, done_until) VALUES (?, ?)
			ON CONFLICT (resolution) DO UPDATE SET done_until = excluded.done_until`, step, hi); err != nil {
			return fmt.Errorf("rollup metrics to %s: %w", to, err)
		}
		done = hi
		return nil
	})
	if err != nil {
		return time.Time{}, err
	}
	return time.Unix(done, 0).UTC(), nil
}

// MetricRollupMarks returns, for each resolution points were rolled up
// into, the end of the last interval computed.
func (s *Store) MetricRollupMarks(ctx context.Context) (map[time.Duration]time.Time, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT resolution, done_until FROM metric_rollups`)
	if err != nil {
		return nil, fmt.Errorf("metric rollup marks: %w", err)
	}
	defer rows.Close()
	out := map[time.Duration]time.Time{}
	for rows.Next() {
		var res, done int64
		if err := rows.Scan(&res, &done); err != nil {
			return nil, fmt.Errorf("metric rollup marks: %w", err)
		}
		out[time.Duration(res)*time.Second] = time.Unix(done, 0).UTC()
	}
	return out, rows.Err()
}

// DeleteMetricSamples deletes the samples that start before before, and
// says how many there were.
func (s *Store) DeleteMetricSamples(ctx context.Context, before time.Time) (int64, error) {
	return s.deleteMetrics(ctx, "samples", expireSamplesSQL, before.Unix())
}

// DeleteMetricPoints deletes the points of resolution that start before
// before, and says how many there were.
func (s *Store) DeleteMetricPoints(ctx context.Context, resolution time.Duration, before time.Time) (int64, error) {
	return s.deleteMetrics(ctx, "points of "+resolution.String(), expirePointsSQL, seconds(resolution), before.Unix())
}

// DeleteIdleMetricSeries deletes the series left with no points and no
// samples, so that those of instances long gone do not pile up. Only
// samples from rolledUntil on are looked at: every earlier one must have
// been rolled up into points.
func (s *Store) DeleteIdleMetricSeries(ctx context.Context, rolledUntil time.Time) (int64, error) {
	return s.deleteMetrics(ctx, "idle series", idleSeriesSQL, rolledUntil.Unix())
}

func (s *Store) deleteMetrics(ctx context.Context, what, query string, args ...any) (int64, error) {
	r, err := s.w.ExecContext(ctx, query, args...)
	if err != nil {
		return 0, fmt.Errorf("delete metric %s: %w", what, err)
	}
	return r.RowsAffected()
}

// MetricSampleBuckets merges one series' samples that start in [from, to)
// into buckets of period, each starting at a multiple of period since the
// epoch, oldest first. Buckets without samples are left out. resolution is
// the one the samples were added with.
func (s *Store) MetricSampleBuckets(ctx context.Context, key MetricKey, resolution time.Duration, from, to time.Time, period time.Duration) ([]MetricPoint, error) {
	res := seconds(resolution)
	first := from.Unix() + (res-from.Unix()%res)%res
	if first >= to.Unix() {
		return nil, nil
	}
	return s.buckets(ctx, sampleBucketsSQL, key, time.Unix(first, 0), to, period, res)
}

// MetricBuckets is MetricSampleBuckets over points of resolution.
func (s *Store) MetricBuckets(ctx context.Context, key MetricKey, resolution time.Duration, from, to time.Time, period time.Duration) ([]MetricPoint, error) {
	return s.buckets(ctx, pointBucketsSQL, key, from, to, period, seconds(resolution))
}

func (s *Store) buckets(ctx context.Context, query string, key MetricKey, from, to time.Time, period time.Duration, args ...any) ([]MetricPoint, error) {
	rows, err := s.db.QueryContext(ctx, query, append([]any{seconds(period), key.Namespace, key.Name, key.Dimensions,
		from.Unix(), to.Unix()}, args...)...)
	if err != nil {
		return nil, fmt.Errorf("metric buckets of %s %s: %w", key.Namespace, key.Name, err)
	}
	defer rows.Close()
	var out []MetricPoint
	for rows.Next() {
		var p MetricPoint
		var ts int64
		if err := rows.Scan(&ts, &p.Sum, &p.Min, &p.Max, &p.Count); err != nil {
			return nil, fmt.Errorf("metric buckets of %s %s: %w", key.Namespace, key.Name, err)
		}
		p.Time = time.Unix(ts, 0).UTC()
		out = append(out, p)
	}
	return out, rows.Err()
}

func seconds(d time.Duration) int64 { return int64(d / time.Second) }
