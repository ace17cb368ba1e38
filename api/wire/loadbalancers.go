package wire

import "time"

// Listener is a front port of a load balancer and the port of the targets
// it forwards to.
type Listener struct {
	Port       int `json:"port"`
	TargetPort int `json:"target_port"`
}

// HealthCheck says how a load balancer probes its targets.
type HealthCheck struct {
	Protocol           string `json:"protocol"`
	Port               int    `json:"port,omitempty"` // 0: the traffic port
	Path               string `json:"path,omitempty"`
	Matcher            string `json:"matcher,omitempty"`
	IntervalSeconds    int    `json:"interval_seconds"`
	TimeoutSeconds     int    `json:"timeout_seconds"`
	HealthyThreshold   int    `json:"healthy_threshold"`
	UnhealthyThreshold int    `json:"unhealthy_threshold"`
}

// LoadBalancer describes a load balancer, its state and its metrics.
type LoadBalancer struct {
	ID                         string            `json:"id"`
	Name                       string            `json:"name"`
	State                      string            `json:"state"`
	StateReason                string            `json:"state_reason,omitempty"`
	BindAddr                   string            `json:"bind_addr"`
	Listeners                  []Listener        `json:"listeners"`
	Algorithm                  string            `json:"algorithm"`
	HealthCheck                HealthCheck       `json:"health_check"`
	DeregistrationDelaySeconds int               `json:"deregistration_delay_seconds"`
	IdleTimeoutSeconds         int               `json:"idle_timeout_seconds"`
	ConnectTimeoutMS           int               `json:"connect_timeout_ms"`
	ProxyProtocol              bool              `json:"proxy_protocol"`
	CreatedAt                  time.Time         `json:"created_at"`
	Stats                      LoadBalancerStats `json:"stats"`
}

// LoadBalancers is a list of load balancers.
type LoadBalancers struct {
	LoadBalancers []LoadBalancer `json:"load_balancers"`
}

// LoadBalancerStats are a load balancer's metrics. Counters count since it
// started in this kumod; rates are averaged over the last seconds.
type LoadBalancerStats struct {
	ActiveConnections    int64          `json:"active_connections"`
	NewConnections       int64          `json:"new_connections"`
	NewConnectionsPerSec float64        `json:"new_connections_per_sec"`
	RejectedConnections  int64          `json:"rejected_connections"`
	BytesIn              int64          `json:"bytes_in"`
	BytesOut             int64          `json:"bytes_out"`
	HealthyTargets       int            `json:"healthy_targets"`
	UnhealthyTargets     int            `json:"unhealthy_targets"`
	HealthChanges        int64          `json:"health_changes"`
	Targets              []TargetHealth `json:"targets"`
	Events               []HealthEvent  `json:"events"` // the latest changes, oldest first
}

// TargetHealth is one target's health and metrics. State is initial,
// healthy, unhealthy, unused, draining or unavailable.
type TargetHealth struct {
	ID                   string  `json:"id"`
	Addr                 string  `json:"addr"`
	State                string  `json:"state"`
	Reason               string  `json:"reason,omitempty"`
	Description          string  `json:"description,omitempty"`
	ActiveConnections    int64   `json:"active_connections"`
	NewConnections       int64   `json:"new_connections"`
	NewConnectionsPerSec float64 `json:"new_connections_per_sec"`
	ConnectErrors        int64   `json:"connect_errors"`
	BytesIn              int64   `json:"bytes_in"`
	BytesOut             int64   `json:"bytes_out"`
	HealthChanges        int64   `json:"health_changes"`
}

// HealthEvent is one change of a target's health.
type HealthEvent struct {
	At     time.Time `json:"at"`
	Target string    `json:"target"`
	From   string    `json:"from"`
	To     string    `json:"to"`
	Reason string    `json:"reason,omitempty"`
}

// LoadBalancerRequest creates a load balancer (POST) or changes one
// (PATCH). A field left out keeps its value, or takes its default on
// create. The name is given on create only.
type LoadBalancerRequest struct {
	Name                       *string              `json:"name,omitempty"`
	BindAddr                   *string              `json:"bind_addr,omitempty"`
	Listeners                  []Listener           `json:"listeners,omitempty"`
	Algorithm                  *string              `json:"algorithm,omitempty"`
	HealthCheck                *HealthCheckSettings `json:"health_check,omitempty"`
	DeregistrationDelaySeconds *int                 `json:"deregistration_delay_seconds,omitempty"`
	IdleTimeoutSeconds         *int                 `json:"idle_timeout_seconds,omitempty"`
	ConnectTimeoutMS           *int                 `json:"connect_timeout_ms,omitempty"`
	ProxyProtocol              *bool                `json:"proxy_protocol,omitempty"`
}

// HealthCheckSettings are the health check settings a request gives.
type HealthCheckSettings struct {
	Protocol           *string `json:"protocol,omitempty"`
	Port               *int    `json:"port,omitempty"`
	Path               *string `json:"path,omitempty"`
	Matcher            *string `json:"matcher,omitempty"`
	IntervalSeconds    *int    `json:"interval_seconds,omitempty"`
	TimeoutSeconds     *int    `json:"timeout_seconds,omitempty"`
	HealthyThreshold   *int    `json:"healthy_threshold,omitempty"`
	UnhealthyThreshold *int    `json:"unhealthy_threshold,omitempty"`
}

// TargetsRequest registers or deregisters targets: instance ids ("i-...")
// or ADDRESS:PORT.
type TargetsRequest struct {
	Targets []string `json:"targets"`
}
