package api

import (
	"context"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kumo/api/wire"
	"kumo/loadbalancer"
	"kumo/loadbalancer/manager"
)

func viewLoadBalancer(lb manager.LoadBalancer) wire.LoadBalancer {
	h := lb.Health
	v := wire.LoadBalancer{
		ID: lb.ID, Name: lb.Name, State: string(lb.State), StateReason: lb.StateReason, BindAddr: lb.BindAddr,
		Listeners: make([]wire.Listener, len(lb.Listeners)), Algorithm: string(lb.Algorithm),
		HealthCheck: wire.HealthCheck{
			Protocol: h.Protocol, Port: h.Port, Path: h.Path, Matcher: h.Matcher,
			IntervalSeconds: int(h.Interval / time.Second), TimeoutSeconds: int(h.Timeout / time.Second),
			HealthyThreshold: h.HealthyThreshold, UnhealthyThreshold: h.UnhealthyThreshold,
		},
		DeregistrationDelaySeconds: int(lb.DeregistrationDelay / time.Second),
		IdleTimeoutSeconds:         int(lb.IdleTimeout / time.Second),
		ConnectTimeoutMS:           int(lb.ConnectTimeout / time.Millisecond),
		ProxyProtocol:              lb.ProxyProtocol, CreatedAt: lb.CreatedAt,
	}
	for i, l := range lb.Listeners {
		v.Listeners[i] = wire.Listener{Port: l.Port, TargetPort: l.TargetPort}
	}
	st := lb.Stats
	v.Stats = wire.LoadBalancerStats{
		ActiveConnections: st.ActiveConnections, NewConnections: st.NewConnections, NewConnectionsPerSec: st.NewConnectionsPerSec,
		RejectedConnections: st.RejectedConnections, BytesIn: st.BytesIn, BytesOut: st.BytesOut,
		HealthyTargets: st.HealthyTargets, UnhealthyTargets: st.UnhealthyTargets, HealthChanges: st.HealthChanges,
		Targets: make([]wire.TargetHealth, len(st.Targets)), Events: make([]wire.HealthEvent, len(st.Events)),
	}
	for i, t := range st.Targets {
		v.Stats.Targets[i] = wire.TargetHealth{
			ID: t.ID, Addr: t.Addr, State: string(t.State), Reason: t.Reason, Description: t.Description,
			ActiveConnections: t.ActiveConnections, NewConnections: t.NewConnections, NewConnectionsPerSec: t.NewConnectionsPerSec,
			ConnectErrors: t.ConnectErrors, BytesIn: t.BytesIn, BytesOut: t.BytesOut, HealthChanges: t.HealthChanges,
		}
	}
	for i, e := range st.Events {
		v.Stats.Events[i] = wire.HealthEvent{At: e.At, Target: e.Target, From: string(e.From), To: string(e.To), Reason: e.Reason}
	}
	return v
}

// applySettings writes the settings a request gives over cfg, all but the
// name. A value that is given must mean something: zero or empty is
// refused rather than silently taken as "the default".
func applySettings(cfg *loadbalancer.Config, in wire.LoadBalancerRequest) error {
	if err := setString("bind_addr", in.BindAddr, &cfg.BindAddr); err != nil {
		return err
	}
	if in.Listeners != nil {
		cfg.Listeners = make([]loadbalancer.Listener, len(in.Listeners))
		for i, l := range in.Listeners {
			cfg.Listeners[i] = loadbalancer.Listener{Port: l.Port, TargetPort: l.TargetPort}
		}
	}
	algorithm := string(cfg.Algorithm)
	if err := setString("algorithm", in.Algorithm, &algorithm); err != nil {
		return err
	}
	cfg.Algorithm = loadbalancer.Algorithm(algorithm)
	if d := in.DeregistrationDelaySeconds; d != nil {
		// Zero is meaningful here: close a deregistered target's
		// connections at once.
		if *d < 0 || *d > maxNumber {
			return badRequest("deregistration_delay_seconds must be 0 or more (got %d)", *d)
		}
		cfg.DeregistrationDelay = time.Duration(*d) * time.Second
	}
	if err := setNumber("idle_timeout_seconds", in.IdleTimeoutSeconds, time.Second, &cfg.IdleTimeout); err != nil {
		return err
	}
	if err := setNumber("connect_timeout_ms", in.ConnectTimeoutMS, time.Millisecond, &cfg.ConnectTimeout); err != nil {
		return err
	}
	if in.ProxyProtocol != nil {
		cfg.ProxyProtocol = *in.ProxyProtocol
	}
	if hc := in.HealthCheck; hc != nil {
		h := &cfg.Health
		if hc.Port != nil {
			h.Port = *hc.Port // 0 is meaningful: the traffic port
		}
		for _, err := range []error{
			setString("health_check.protocol", hc.Protocol, &h.Protocol),
			setString("health_check.path", hc.Path, &h.Path),
			setString("health_check.matcher", hc.Matcher, &h.Matcher),
			setNumber("health_check.interval_seconds", hc.IntervalSeconds, time.Second, &h.Interval),
			setNumber("health_check.timeout_seconds", hc.TimeoutSeconds, time.Second, &h.Timeout),
			setNumber("health_check.healthy_threshold", hc.HealthyThreshold, 1, &h.HealthyThreshold),
			setNumber("health_check.unhealthy_threshold", hc.UnhealthyThreshold, 1, &h.UnhealthyThreshold),
		} {
			if err != nil {
				return err
			}
		}
	}
	return nil
}

func setString(field string, v *string, dst *string) error {
	if v == nil {
		return nil
	}
	if *v == "" {
		return badRequest("%s must not be empty", field)
	}
	*dst = *v
	return nil
}

// maxNumber keeps a count of seconds or milliseconds from overflowing a
// time.Duration; the real bounds are checked with the configuration.
const maxNumber = 1_000_000

// setNumber stores a positive count of unit (a duration unit, or 1 for a
// plain number).
func setNumber[T ~int | ~int64](field string, v *int, unit T, dst *T) error {
	if v == nil {
		return nil
	}
	if *v < 1 || *v > maxNumber {
		return badRequest("%s must be a positive number (got %d)", field, *v)
	}
	*dst = T(*v) * unit
	return nil
}

func (s *Server) listLoadBalancers(c echo.Context) error {
	list, err := s.lbs.For(ownerViewOf(c)).List(c.Request().Context())
	if err != nil {
		return err
	}
	out := wire.LoadBalancers{LoadBalancers: make([]wire.LoadBalancer, len(list))}
	for i, lb := range list {
		out.LoadBalancers[i] = viewLoadBalancer(lb)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) createLoadBalancer(c echo.Context) error {
	var req wire.LoadBalancerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	cfg := loadbalancer.Config{DeregistrationDelay: loadbalancer.DefaultDeregistrationDelay}
	if req.Name != nil {
		cfg.Name = *req.Name
	}
	if err := applySettings(&cfg, req); err != nil {
		return err
	}
	lb, err := s.lbs.For(ownerViewOf(c)).Create(c.Request().Context(), cfg)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewLoadBalancer(lb))
}

func (s *Server) getLoadBalancer(c echo.Context) error {
	lb, err := s.lbs.For(ownerViewOf(c)).Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewLoadBalancer(lb))
}

func (s *Server) updateLoadBalancer(c echo.Context) error {
	var req wire.LoadBalancerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	if req.Name != nil {
		return badRequest("a load balancer cannot be renamed")
	}
	lb, err := s.lbs.For(ownerViewOf(c)).Update(c.Request().Context(), c.Param("ref"), func(cfg *loadbalancer.Config) error {
		return applySettings(cfg, req)
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewLoadBalancer(lb))
}

func (s *Server) deleteLoadBalancer(c echo.Context) error {
	if err := s.lbs.For(ownerViewOf(c)).Delete(c.Request().Context(), c.Param("ref")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) registerTargets(c echo.Context) error {
	return s.changeTargets(c, s.lbs.For(ownerViewOf(c)).Register)
}

func (s *Server) deregisterTargets(c echo.Context) error {
	return s.changeTargets(c, s.lbs.For(ownerViewOf(c)).Deregister)
}

// changeTargets applies a registration or deregistration and answers with
// the load balancer as it is afterwards.
func (s *Server) changeTargets(c echo.Context, change func(ctx context.Context, ref string, targets []string) error) error {
	var req wire.TargetsRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	ctx, ref := c.Request().Context(), c.Param("ref")
	if err := change(ctx, ref, req.Targets); err != nil {
		return err
	}
	return s.getLoadBalancer(c)
}
