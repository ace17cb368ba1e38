package manager

import (
	"reflect"
	"testing"
	"time"

	"kumo/loadbalancer"
)

func TestConfigSurvivesTheStore(t *testing.T) {
	for _, cfg := range []loadbalancer.Config{
		loadbalancer.Config{ID: "lb-0123456789abcdef0", Name: "web", Listeners: []loadbalancer.Listener{{Port: 8081, TargetPort: 80}}}.WithDefaults(),
		{
			ID: "lb-0123456789abcdef1", Name: "api", BindAddr: "::1", Algorithm: loadbalancer.SourceHash,
			Listeners: []loadbalancer.Listener{{Port: 9443, TargetPort: 443}, {Port: 9080, TargetPort: 80}},
			Health: loadbalancer.HealthCheck{Protocol: "HTTP", Port: 8080, Path: "/healthz", Matcher: "200,204",
				Interval: 5 * time.Second, Timeout: 2 * time.Second, HealthyThreshold: 3, UnhealthyThreshold: 4},
			DeregistrationDelay: 10 * time.Second, IdleTimeout: time.Minute, ConnectTimeout: 250 * time.Millisecond,
			ProxyProtocol: true,
		},
	} {
		created := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
		r := rowOf(cfg, "alice", created)
		if got := configOf(r); !reflect.DeepEqual(got, cfg) || !r.CreatedAt.Equal(created) || r.Owner != "alice" {
			t.Errorf("round trip of %s:\n%+v\nwant\n%+v", cfg.Name, got, cfg)
		}
	}
}
