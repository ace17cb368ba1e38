package loadbalancer

import (
	"errors"
	"testing"
	"time"

	"kumo/internal/errs"
)

func TestConfigValidate(t *testing.T) {
	base := func() Config { return Config{Listeners: []Listener{{Port: 8081, TargetPort: 80}}} }
	cases := []struct {
		name   string
		modify func(*Config)
		kind   error // nil: valid
	}{
		{"defaults are valid", func(*Config) {}, nil},
		{"no listener", func(c *Config) { c.Listeners = nil }, errs.MissingParameter},
		{"port zero", func(c *Config) { c.Listeners[0].Port = 0 }, errs.InvalidParameter},
		{"port too big", func(c *Config) { c.Listeners[0].TargetPort = 70000 }, errs.InvalidParameter},
		{"same port twice", func(c *Config) { c.Listeners = append(c.Listeners, Listener{Port: 8081, TargetPort: 81}) }, errs.InvalidParameter},
		{"bad bind address", func(c *Config) { c.BindAddr = "localhost" }, errs.InvalidParameter},
		{"unknown algorithm", func(c *Config) { c.Algorithm = "random" }, errs.InvalidParameter},
		{"health protocol", func(c *Config) { c.Health.Protocol = "UDP" }, errs.InvalidParameter},
		{"http path without slash", func(c *Config) { c.Health = HealthCheck{Protocol: "HTTP", Path: "health"} }, errs.InvalidParameter},
		{"bad matcher", func(c *Config) { c.Health = HealthCheck{Protocol: "HTTP", Matcher: "ok"} }, errs.InvalidParameter},
		{"matcher out of range", func(c *Config) { c.Health = HealthCheck{Protocol: "HTTP", Matcher: "100-200"} }, errs.InvalidParameter},
		{"good matcher list", func(c *Config) { c.Health = HealthCheck{Protocol: "HTTP", Matcher: "200,202-204"} }, nil},
		{"interval too short", func(c *Config) { c.Health.Interval = 500 * time.Millisecond }, errs.InvalidParameter},
		{"timeout above interval", func(c *Config) { c.Health.Interval, c.Health.Timeout = 5*time.Second, 6*time.Second }, errs.InvalidParameter},
		{"threshold too low", func(c *Config) { c.Health.HealthyThreshold = 1 }, errs.InvalidParameter},
		{"threshold too high", func(c *Config) { c.Health.UnhealthyThreshold = 11 }, errs.InvalidParameter},
		{"negative delay", func(c *Config) { c.DeregistrationDelay = -time.Second }, errs.InvalidParameter},
		{"zero delay is allowed", func(c *Config) { c.DeregistrationDelay = 0 }, nil},
		{"idle timeout too short", func(c *Config) { c.IdleTimeout = time.Millisecond }, errs.InvalidParameter},
		{"connect timeout too long", func(c *Config) { c.ConnectTimeout = time.Hour }, errs.InvalidParameter},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := base()
			c.modify(&cfg)
			err := cfg.WithDefaults().Validate()
			if c.kind == nil && err != nil {
				t.Fatalf("want valid, got %v", err)
			}
			if c.kind != nil && !errors.Is(err, c.kind) {
				t.Fatalf("want %v, got %v", c.kind, err)
			}
		})
	}
}

func TestDefaultsFollowAWS(t *testing.T) {
	cfg := Config{Listeners: []Listener{{Port: 1, TargetPort: 1}}}.WithDefaults()
	h := cfg.Health
	if h.Protocol != "TCP" || h.Interval != 30*time.Second || h.Timeout != 10*time.Second || h.HealthyThreshold != 5 || h.UnhealthyThreshold != 2 {
		t.Errorf("TCP health defaults: %+v", h)
	}
	if DefaultDeregistrationDelay != 300*time.Second || cfg.Algorithm != RoundRobin || cfg.BindAddr != "127.0.0.1" {
		t.Errorf("defaults: %+v", cfg)
	}
	if hh := DefaultHealthCheck("http"); hh.Path != "/" || hh.Matcher != "200-399" || hh.Timeout != 6*time.Second {
		t.Errorf("HTTP health defaults: %+v", hh)
	}
}

func TestParseListener(t *testing.T) {
	cases := []struct {
		in      string
		want    Listener
		wantErr bool
	}{
		{"8081:80", Listener{8081, 80}, false},
		{"443", Listener{443, 443}, false},
		{"0:80", Listener{}, true},
		{"80:99999", Listener{}, true},
		{"web:80", Listener{}, true},
		{"", Listener{}, true},
	}
	for _, c := range cases {
		got, err := ParseListener(c.in)
		if (err != nil) != c.wantErr || (!c.wantErr && got != c.want) {
			t.Errorf("ParseListener(%q) = %v, %v", c.in, got, err)
		}
	}
}
