package manager

import (
	"time"

	"kumo/loadbalancer"
	"kumo/store"
)

// configOf is the data path's configuration of a stored load balancer.
func configOf(r store.LoadBalancer) loadbalancer.Config {
	cfg := loadbalancer.Config{
		ID: r.ID, Name: r.Name, BindAddr: r.BindAddr, Algorithm: loadbalancer.Algorithm(r.Algorithm),
		Health: loadbalancer.HealthCheck{
			Protocol: r.Health.Protocol, Port: r.Health.Port, Path: r.Health.Path, Matcher: r.Health.Matcher,
			Interval: r.Health.Interval, Timeout: r.Health.Timeout,
			HealthyThreshold: r.Health.HealthyThreshold, UnhealthyThreshold: r.Health.UnhealthyThreshold,
		},
		DeregistrationDelay: r.DeregistrationDelay, IdleTimeout: r.IdleTimeout, ConnectTimeout: r.ConnectTimeout,
		ProxyProtocol: r.ProxyProtocol,
	}
	for _, l := range r.Listeners {
		cfg.Listeners = append(cfg.Listeners, loadbalancer.Listener{Port: l.Port, TargetPort: l.TargetPort})
	}
	return cfg
}

// rowOf is the stored form of owner's configuration.
func rowOf(cfg loadbalancer.Config, owner string, created time.Time) store.LoadBalancer {
	r := store.LoadBalancer{
		ID: cfg.ID, Owner: owner, Name: cfg.Name, BindAddr: cfg.BindAddr, Algorithm: string(cfg.Algorithm),
		Health: store.HealthCheck{
			Protocol: cfg.Health.Protocol, Port: cfg.Health.Port, Path: cfg.Health.Path, Matcher: cfg.Health.Matcher,
			Interval: cfg.Health.Interval, Timeout: cfg.Health.Timeout,
			HealthyThreshold: cfg.Health.HealthyThreshold, UnhealthyThreshold: cfg.Health.UnhealthyThreshold,
		},
		DeregistrationDelay: cfg.DeregistrationDelay, IdleTimeout: cfg.IdleTimeout, ConnectTimeout: cfg.ConnectTimeout,
		ProxyProtocol: cfg.ProxyProtocol, CreatedAt: created,
	}
	for _, l := range cfg.Listeners {
		r.Listeners = append(r.Listeners, store.Listener{Port: l.Port, TargetPort: l.TargetPort})
	}
	return r
}
