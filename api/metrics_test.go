package api

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/metrics"
	"kumo/store"
)

const knownInstance = "i-0123456789abcdef0"

// oneInstance knows knownInstance alone, and answers for the others as the
// instances service does.
type oneInstance struct{}

func (oneInstance) Get(ctx context.Context, id string) (instances.Instance, error) {
	switch id {
	case knownInstance:
		return instances.Instance{Instance: store.Instance{ID: id}}, nil
	case "i-0000000000000000f":
		return instances.Instance{}, errs.New(instances.ErrNotFound, "the instance ID '%s' does not exist", id)
	}
	return instances.Instance{}, errs.New(instances.ErrMalformed, "invalid id: %q", id)
}

var metricsT0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// metricsServer serves the endpoint from a real metrics service that holds
// three minutes of knownInstance's CPUUtilization.
func metricsServer(t *testing.T, withMetrics bool) *echo.Echo {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var points []store.MetricPoint
	for i := range 18 {
		v := float64(10 * (i % 6))
		points = append(points, store.MetricPoint{
			Key:  store.MetricKey{Namespace: metrics.NamespaceEC2, Name: metrics.CPUUtilization, Dimensions: "InstanceId=" + knownInstance},
			Time: metricsT0.Add(time.Duration(i) * 10 * time.Second), Sum: v, Min: v, Max: v, Count: 1,
		})
	}
	if err := st.AddMetricSamples(context.Background(), 10*time.Second, points); err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	var reader MetricsReader
	if withMetrics {
		reader = metrics.New(st, nil, nil, clock.NewFake(metricsT0.Add(time.Hour)), log)
	}
	s := &Server{log: log}
	e := echo.New()
	e.HTTPErrorHandler = s.handleError
	e.GET("/api/v1/instances/:id/metrics", instanceMetrics(func(echo.Context) instanceGetter { return oneInstance{} }, reader))
	return e
}

func getMetrics(t *testing.T, e *echo.Echo, target string, out any) int {
	t.Helper()
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
		t.Fatalf("GET %s: %d %s: %v", target, rec.Code, rec.Body, err)
	}
	return rec.Code
}

func TestInstanceMetrics(t *testing.T) {
	e := metricsServer(t, true)
	var got struct {
		InstanceID string `json:"instance_id"`
		Namespace  string
		Name       string
		Period     int
		Datapoints []map[string]any
	}
	code := getMetrics(t, e, "/api/v1/instances/"+knownInstance+"/metrics?name=CPUUtilization&period=60"+
		"&start=2026-03-01T12:00:30Z&end=2026-03-01T12:03:00Z&stat=Average,Maximum&stat=SampleCount", &got)
	if code != http.StatusOK {
		t.Fatalf("status %d: %+v", code, got)
	}
	if got.InstanceID != knownInstance || got.Namespace != "AWS/EC2" || got.Name != "CPUUtilization" || got.Period != 60 {
		t.Errorf("answer %+v", got)
	}
	// The start is rounded down to the minute: three whole minutes, each
	// of 0, 10, ..., 50 %.
	if len(got.Datapoints) != 3 {
		t.Fatalf("datapoints %v, want 3", got.Datapoints)
	}
	want := map[string]any{"timestamp": "2026-03-01T12:01:00Z", "unit": "Percent", "average": 25.0, "maximum": 50.0, "sample_count": 6.0}
	for k, v := range want {
		if got.Datapoints[1][k] != v {
			t.Errorf("second datapoint %v, want %v", got.Datapoints[1], want)
			break
		}
	}
	if len(got.Datapoints[1]) != len(want) {
		t.Errorf("second datapoint %v has statistics not asked for", got.Datapoints[1])
	}

	var avg struct{ Datapoints []map[string]any }
	getMetrics(t, e, "/api/v1/instances/"+knownInstance+"/metrics?name=CPUUtilization&period=180"+
		"&start=2026-03-01T12:00:00Z&end=2026-03-01T12:03:00Z", &avg)
	if len(avg.Datapoints) != 1 || avg.Datapoints[0]["average"] != 25.0 || len(avg.Datapoints[0]) != 3 {
		t.Errorf("with the default statistic: %v, want one Average of 25", avg.Datapoints)
	}
}

func TestInstanceMetricsErrors(t *testing.T) {
	e := metricsServer(t, true)
	const day = "&start=2026-03-01T12:00:00Z&end=2026-03-02T12:00:00Z"
	for _, tc := range []struct {
		name, target string
		status       int
		code         string
	}{
		{"unknown instance", "/api/v1/instances/i-0000000000000000f/metrics?name=CPUUtilization&period=60" + day,
			http.StatusNotFound, "InvalidInstanceID.NotFound"},
		{"malformed instance", "/api/v1/instances/web-1/metrics?name=CPUUtilization&period=60" + day,
			http.StatusBadRequest, "InvalidInstanceID.Malformed"},
		{"no name", "/api/v1/instances/" + knownInstance + "/metrics?period=60" + day,
			http.StatusBadRequest, "MissingParameter"},
		{"no start", "/api/v1/instances/" + knownInstance + "/metrics?name=CPUUtilization&period=60&end=2026-03-02T12:00:00Z",
			http.StatusBadRequest, "MissingParameter"},
		{"period not a number", "/api/v1/instances/" + knownInstance + "/metrics?name=CPUUtilization&period=1m" + day,
			http.StatusBadRequest, "InvalidParameterValue"},
		{"period of 45 s", "/api/v1/instances/" + knownInstance + "/metrics?name=CPUUtilization&period=45" + day,
			http.StatusBadRequest, "InvalidParameterValue"},
		{"start not RFC 3339", "/api/v1/instances/" + knownInstance + "/metrics?name=CPUUtilization&period=60" +
			"&start=yesterday&end=2026-03-02T12:00:00Z", http.StatusBadRequest, "InvalidParameterValue"},
		{"start after end", "/api/v1/instances/" + knownInstance + "/metrics?name=CPUUtilization&period=60" +
			"&start=2026-03-02T12:00:00Z&end=2026-03-01T12:00:00Z", http.StatusBadRequest, "InvalidParameterValue"},
		{"too many datapoints", "/api/v1/instances/" + knownInstance + "/metrics?name=CPUUtilization&period=10" + day,
			http.StatusBadRequest, "InvalidParameterValue"},
		{"unknown statistic", "/api/v1/instances/" + knownInstance + "/metrics?name=CPUUtilization&period=60&stat=p99" + day,
			http.StatusBadRequest, "InvalidParameterValue"},
	} {
		var doc errDoc
		if status := getMetrics(t, e, tc.target, &doc); status != tc.status || doc.Error.Code != tc.code || doc.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s", tc.name, status, doc.Error, tc.status, tc.code)
		}
	}

	var doc errDoc
	if status := getMetrics(t, metricsServer(t, false), "/api/v1/instances/"+knownInstance+"/metrics?name=CPUUtilization&period=60"+day, &doc); status != http.StatusNotFound {
		t.Errorf("without metrics: %d %+v", status, doc.Error)
	}
}
