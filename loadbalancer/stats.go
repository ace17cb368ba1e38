package loadbalancer

import "time"

// Stats is a snapshot of a load balancer's metrics. Counters count since
// the load balancer was created in this process; rates are over the last
// RateWindow.
type Stats struct {
	ActiveConnections    int64   `json:"active_connections"`
	NewConnections       int64   `json:"new_connections"`
	NewConnectionsPerSec float64 `json:"new_connections_per_sec"`
	// RejectedConnections found no target to go to, or none that answered.
	RejectedConnections int64         `json:"rejected_connections"`
	BytesIn             int64         `json:"bytes_in"`  // from clients
	BytesOut            int64         `json:"bytes_out"` // to clients
	HealthyTargets      int           `json:"healthy_targets"`
	UnhealthyTargets    int           `json:"unhealthy_targets"`
	HealthChanges       int64         `json:"health_changes"`
	Targets             []TargetStats `json:"targets"`
	// Events are the latest health state changes, oldest first.
	Events []HealthEvent `json:"events"`
}

// TargetStats is one target's health and metrics.
type TargetStats struct {
	ID                   string  `json:"id"`
	Addr                 string  `json:"addr"` // address:port connections go to
	State                Health  `json:"state"`
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

// HealthEvent records one health state change.
type HealthEvent struct {
	At     time.Time `json:"at"`
	Target string    `json:"target"`
	From   Health    `json:"from"`
	To     Health    `json:"to"`
	Reason string    `json:"reason,omitempty"`
}

// RateWindow is the span per-second rates are averaged over.
const RateWindow = 10 * time.Second

// maxEvents bounds the health events kept per load balancer.
const maxEvents = 50
