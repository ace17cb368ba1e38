package api

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"kumo/instances"
	"kumo/metrics"
)

// MetricsReader is what the metrics endpoint asks of the metrics service.
type MetricsReader interface {
	Statistics(ctx context.Context, q metrics.Query) ([]metrics.Datapoint, error)
}

// instanceGetter is what it asks of the instances service, as the caller
// sees it: that the instance is there and the caller's, so an unknown id
// is a 404 rather than no data.
type instanceGetter interface {
	Get(ctx context.Context, id string) (instances.Instance, error)
}

// instanceMetricsView is the answer of GET /api/v1/instances/:id/metrics.
type instanceMetricsView struct {
	InstanceID string          `json:"instance_id"`
	Namespace  string          `json:"namespace"`
	Name       string          `json:"name"`
	Period     int64           `json:"period"` // seconds
	Datapoints []datapointView `json:"datapoints"`
}

// datapointView holds the statistics the request asked for, and only
// those, as CloudWatch's Datapoint does.
type datapointView struct {
	Timestamp   time.Time `json:"timestamp"`
	Unit        string    `json:"unit"`
	Average     *float64  `json:"average,omitempty"`
	Sum         *float64  `json:"sum,omitempty"`
	Minimum     *float64  `json:"minimum,omitempty"`
	Maximum     *float64  `json:"maximum,omitempty"`
	SampleCount *float64  `json:"sample_count,omitempty"`
}

// instanceMetrics serves GET /api/v1/instances/:id/metrics?name=&period=
// &start=&end=&stat=: an instance's AWS/EC2 metric as GetMetricStatistics
// answers it. period is in seconds, start and end are RFC 3339, and stat
// may be repeated or comma-separated (default Average). The metrics
// service judges the values; this only reads them.
func instanceMetrics(instancesOf func(echo.Context) instanceGetter, m MetricsReader) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m == nil {
			return echo.NewHTTPError(http.StatusNotFound, "this server keeps no metrics")
		}
		ctx := c.Request().Context()
		id := c.Param("id")
		if _, err := instancesOf(c).Get(ctx, id); err != nil {
			return err
		}
		q, err := metricsQuery(c)
		if err != nil {
			return err
		}
		q.Dimensions = []metrics.Dimension{{Name: metrics.DimensionInstanceID, Value: id}}
		points, err := m.Statistics(ctx, q)
		if err != nil {
			return err
		}
		out := instanceMetricsView{InstanceID: id, Namespace: q.Namespace, Name: q.MetricName,
			Period: int64(q.Period / time.Second), Datapoints: make([]datapointView, len(points))}
		for i, p := range points {
			out.Datapoints[i] = viewDatapoint(p, q.Statistics)
		}
		return c.JSON(http.StatusOK, out)
	}
}

func metricsQuery(c echo.Context) (metrics.Query, error) {
	q := metrics.Query{Namespace: metrics.NamespaceEC2, MetricName: c.QueryParam("name")}
	if p := c.QueryParam("period"); p != "" {
		secs, err := strconv.ParseInt(p, 10, 32)
		if err != nil {
			return q, badRequest("period must be a whole number of seconds, not %q", p)
		}
		q.Period = time.Duration(secs) * time.Second
	}
	for _, f := range []struct {
		name string
		to   *time.Time
	}{{"start", &q.Start}, {"end", &q.End}} {
		v := c.QueryParam(f.name)
		if v == "" {
			continue
		}
		t, err := time.Parse(time.RFC3339, v)
		if err != nil {
			return q, badRequest("%s must be an RFC 3339 time such as 2026-01-02T15:04:05Z, not %q", f.name, v)
		}
		*f.to = t
	}
	for _, v := range c.QueryParams()["stat"] {
		for s := range strings.SplitSeq(v, ",") {
			q.Statistics = append(q.Statistics, metrics.Statistic(strings.TrimSpace(s)))
		}
	}
	if len(q.Statistics) == 0 {
		q.Statistics = []metrics.Statistic{metrics.Average}
	}
	return q, nil
}

func viewDatapoint(p metrics.Datapoint, stats []metrics.Statistic) datapointView {
	v := datapointView{Timestamp: p.Timestamp, Unit: string(p.Unit)}
	for _, s := range stats {
		x := p.Value(s)
		switch s {
		case metrics.Average:
			v.Average = &x
		case metrics.Sum:
			v.Sum = &x
		case metrics.Minimum:
			v.Minimum = &x
		case metrics.Maximum:
			v.Maximum = &x
		case metrics.SampleCount:
			v.SampleCount = &x
		}
	}
	return v
}
