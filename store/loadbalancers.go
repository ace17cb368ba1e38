package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// LoadBalancer is a load balancer row with its listeners, in the order
// they were given. The loadbalancer packages own what the fields mean.
type LoadBalancer struct {
	ID string
	// Owner is the account the load balancer belongs to; empty for one of
	// no account: the administrator's, or one made before load balancers
	// had owners. Names are unique within one owner's.
	Owner               string
	Name                string
	BindAddr            string
	Algorithm           string
	Health              HealthCheck
	DeregistrationDelay time.Duration
	IdleTimeout         time.Duration
	ConnectTimeout      time.Duration
	ProxyProtocol       bool
	Listeners           []Listener
	CreatedAt           time.Time
}

// HealthCheck is how a load balancer probes its targets.
type HealthCheck struct {
	Protocol           string
	Port               int
	Path               string
	Matcher            string
	Interval           time.Duration
	Timeout            time.Duration
	HealthyThreshold   int
	UnhealthyThreshold int
}

// Listener is a front port of a load balancer and the port it forwards to.
type Listener struct {
	Port       int
	TargetPort int
}

// Kinds of load balancer target.
const (
	TargetInstance = "instance"
	TargetIP       = "ip"
)

// Target is a registration of a target with a load balancer: an instance
// (ID is its id, Addr its private address) or an address (ID is
// "address:port", Port its port).
type Target struct {
	LoadBalancerID string
	ID             string
	Kind           string
	Addr           string
	Port           int
	RegisteredAt   time.Time
}

// ListenerConflictError says a listener port is taken by another load
// balancer, of any owner, whose bind address overlaps: the same address, or
// either side bound to every address (0.0.0.0 or ::).
type ListenerConflictError struct {
	Port     int
	BindAddr string // the other load balancer's
	ID       string // the other load balancer's
	Name     string
	Owner    string
}

func (e *ListenerConflictError) Error() string {
	return fmt.Sprintf("port %d is used by load balancer %s (%s) on %s", e.Port, e.Name, e.ID, e.BindAddr)
}

// Durations are stored in whole milliseconds.
const (
	lbColumns = `id, owner, name, bind_addr, algorithm, health_protocol, health_port, health_path, health_matcher,
		health_interval_ms, health_timeout_ms, healthy_threshold, unhealthy_threshold,
		deregistration_delay_ms, idle_timeout_ms, connect_timeout_ms, proxy_protocol, created_at`
	lbColumnCount = 18
	lbUpdate      = `name = ?, bind_addr = ?, algorithm = ?, health_protocol = ?, health_port = ?, health_path = ?, health_matcher = ?,
		health_interval_ms = ?, health_timeout_ms = ?, healthy_threshold = ?, unhealthy_threshold = ?,
		deregistration_delay_ms = ?, idle_timeout_ms = ?, connect_timeout_ms = ?, proxy_protocol = ?`
)

// lbSettings are the values of every column but id, owner and created_at,
// in the order of lbColumns and lbUpdate. A load balancer never changes
// owner.
func lbSettings(lb LoadBalancer) []any {
	h := lb.Health
	return []any{lb.Name, lb.BindAddr, lb.Algorithm, h.Protocol, h.Port, h.Path, h.Matcher,
		h.Interval.Milliseconds(), h.Timeout.Milliseconds(), h.HealthyThreshold, h.UnhealthyThreshold,
		lb.DeregistrationDelay.Milliseconds(), lb.IdleTimeout.Milliseconds(), lb.ConnectTimeout.Milliseconds(), lb.ProxyProtocol}
}

func scanLoadBalancer(row interface{ Scan(...any) error }) (LoadBalancer, error) {
	var lb LoadBalancer
	h := &lb.Health
	var interval, timeout, dereg, idle, connect int64
	var created string
	err := row.Scan(&lb.ID, &lb.Owner, &lb.Name, &lb.BindAddr, &lb.Algorithm, &h.Protocol, &h.Port, &h.Path, &h.Matcher,
		&interval, &timeout, &h.HealthyThreshold, &h.UnhealthyThreshold, &dereg, &idle, &connect, &lb.ProxyProtocol, &created)
	h.Interval, h.Timeout = millis(interval), millis(timeout)
	lb.DeregistrationDelay, lb.IdleTimeout, lb.ConnectTimeout = millis(dereg), millis(idle), millis(connect)
	lb.CreatedAt = parseTime(created)
	return lb, err
}

func millis(n int64) time.Duration { return time.Duration(n) * time.Millisecond }

// CreateLoadBalancer adds a load balancer and its listeners in one
// transaction. ErrDuplicate when its owner has one of that name already; a
// *ListenerConflictError when another load balancer holds one of its ports.
func (s *Store) CreateLoadBalancer(ctx context.Context, lb LoadBalancer) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		args := append([]any{lb.ID, lb.Owner}, lbSettings(lb)...)
		args = append(args, formatTime(lb.CreatedAt))
		_, err := tx.ExecContext(ctx, `INSERT INTO load_balancers (`+lbColumns+`) VALUES (`+placeholders(lbColumnCount)+`)`, args...)
		if isUniqueViolation(err) {
			return fmt.Errorf("load balancer name %q: %w", lb.Name, ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("insert load balancer %s: %w", lb.ID, err)
		}
		return putListeners(ctx, tx, lb)
	})
}

// UpdateLoadBalancer replaces a load balancer's settings and listeners;
// its id and creation time stay. Errors as CreateLoadBalancer, and
// ErrNotFound.
func (s *Store) UpdateLoadBalancer(ctx context.Context, lb LoadBalancer) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE load_balancers SET `+lbUpdate+` WHERE id = ?`, append(lbSettings(lb), lb.ID)...)
		if isUniqueViolation(err) {
			return fmt.Errorf("load balancer name %q: %w", lb.Name, ErrDuplicate)
		}
		if err != nil {
			return fmt.Errorf("update load balancer %s: %w", lb.ID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("load balancer %s: %w", lb.ID, ErrNotFound)
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM lb_listeners WHERE lb_id = ?`, lb.ID); err != nil {
			return fmt.Errorf("update load balancer %s: %w", lb.ID, err)
		}
		return putListeners(ctx, tx, lb)
	})
}

// putListeners checks that no other load balancer holds lb's ports, then
// records them. Checking inside the writing transaction keeps two
// concurrent requests from taking the same port.
func putListeners(ctx context.Context, tx *sql.Tx, lb LoadBalancer) error {
	if len(lb.Listeners) > 0 {
		args := []any{lb.ID, lb.BindAddr, lb.BindAddr}
		for _, l := range lb.Listeners {
			args = append(args, l.Port)
		}
		var c ListenerConflictError
		err := tx.QueryRowContext(ctx, `SELECT l.port, b.bind_addr, b.id, b.name, b.owner
			FROM lb_listeners l JOIN load_balancers b ON b.id = l.lb_id
			WHERE b.id <> ? AND (b.bind_addr = ? OR b.bind_addr IN ('0.0.0.0', '::') OR ? IN ('0.0.0.0', '::'))
			AND l.port IN (`+placeholders(len(lb.Listeners))+`)
			ORDER BY l.port LIMIT 1`, args...).Scan(&c.Port, &c.BindAddr, &c.ID, &c.Name, &c.Owner)
		if err == nil {
			return &c
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("check listeners of %s: %w", lb.ID, err)
		}
	}
	for _, l := range lb.Listeners {
		if _, err := tx.ExecContext(ctx, `INSERT INTO lb_listeners (lb_id, port, target_port) VALUES (?,?,?)`,
			lb.ID, l.Port, l.TargetPort); err != nil {
			return fmt.Errorf("insert listener %d of %s: %w", l.Port, lb.ID, err)
		}
	}
	return nil
}

// LoadBalancer returns the load balancer with id, whoever owns it.
func (s *Store) LoadBalancer(ctx context.Context, id string) (LoadBalancer, error) {
	return s.oneLoadBalancer(ctx, id, `id = ?`, id)
}

// LoadBalancerByName returns owner's load balancer called name.
func (s *Store) LoadBalancerByName(ctx context.Context, owner, name string) (LoadBalancer, error) {
	return s.oneLoadBalancer(ctx, name, `owner = ? AND name = ?`, owner, name)
}

func (s *Store) oneLoadBalancer(ctx context.Context, ref, where string, args ...any) (LoadBalancer, error) {
	list, err := s.loadBalancers(ctx, ` WHERE `+where, args...)
	if err != nil {
		return LoadBalancer{}, err
	}
	if len(list) == 0 {
		return LoadBalancer{}, fmt.Errorf("load balancer %s: %w", ref, ErrNotFound)
	}
	return list[0], nil
}

// LoadBalancers lists every load balancer, oldest first.
func (s *Store) LoadBalancers(ctx context.Context) ([]LoadBalancer, error) {
	return s.loadBalancers(ctx, "")
}

// LoadBalancersOf lists owner's load balancers, oldest first.
func (s *Store) LoadBalancersOf(ctx context.Context, owner string) ([]LoadBalancer, error) {
	return s.loadBalancers(ctx, ` WHERE owner = ?`, owner)
}

func (s *Store) loadBalancers(ctx context.Context, where string, args ...any) ([]LoadBalancer, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+lbColumns+` FROM load_balancers`+where+` ORDER BY created_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list load balancers: %w", err)
	}
	defer rows.Close()
	out := []LoadBalancer{}
	byID := map[string]int{}
	var ids []any
	for rows.Next() {
		lb, err := scanLoadBalancer(rows)
		if err != nil {
			return nil, fmt.Errorf("list load balancers: %w", err)
		}
		byID[lb.ID] = len(out)
		ids = append(ids, lb.ID)
		out = append(out, lb)
	}
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	// Ordered by rowid, listeners come back in the order they were given:
	// the first one's target port is the one health checks probe.
	lrows, err := s.db.QueryContext(ctx, `SELECT lb_id, port, target_port FROM lb_listeners
		WHERE lb_id IN (`+placeholders(len(ids))+`) ORDER BY rowid`, ids...)
	if err != nil {
		return nil, fmt.Errorf("list listeners: %w", err)
	}
	defer lrows.Close()
	for lrows.Next() {
		var id string
		var l Listener
		if err := lrows.Scan(&id, &l.Port, &l.TargetPort); err != nil {
			return nil, fmt.Errorf("list listeners: %w", err)
		}
		i := byID[id]
		out[i].Listeners = append(out[i].Listeners, l)
	}
	return out, lrows.Err()
}

// DeleteLoadBalancer removes a load balancer with its listeners and
// targets.
func (s *Store) DeleteLoadBalancer(ctx context.Context, id string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM load_balancers WHERE id = ?`, id)
	if err != nil {
		return fmt.Errorf("delete load balancer %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("load balancer %s: %w", id, ErrNotFound)
	}
	return nil
}

// AddTargets registers targets with a load balancer, all or none. A target
// registered already takes the new address and keeps its registration
// time.
func (s *Store) AddTargets(ctx context.Context, lbID string, ts []Target) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var one int
		err := tx.QueryRowContext(ctx, `SELECT 1 FROM load_balancers WHERE id = ?`, lbID).Scan(&one)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("load balancer %s: %w", lbID, ErrNotFound)
		}
		if err != nil {
			return fmt.Errorf("add targets to %s: %w", lbID, err)
		}
		for _, t := range ts {
			_, err := tx.ExecContext(ctx, `INSERT INTO lb_targets (lb_id, target_id, kind, addr, port, registered_at) VALUES (?,?,?,?,?,?)
				ON CONFLICT (lb_id, target_id) DO UPDATE SET kind = excluded.kind, addr = excluded.addr, port = excluded.port`,
				lbID, t.ID, t.Kind, t.Addr, t.Port, formatTime(t.RegisteredAt))
			if err != nil {
				return fmt.Errorf("add target %s to %s: %w", t.ID, lbID, err)
			}
		}
		return nil
	})
}

// RemoveTargets deregisters targets from a load balancer, all or none:
// ErrNotFound names the first one that is not registered.
func (s *Store) RemoveTargets(ctx context.Context, lbID string, targetIDs []string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		for _, id := range targetIDs {
			res, err := tx.ExecContext(ctx, `DELETE FROM lb_targets WHERE lb_id = ? AND target_id = ?`, lbID, id)
			if err != nil {
				return fmt.Errorf("remove target %s from %s: %w", id, lbID, err)
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return fmt.Errorf("target %s of load balancer %s: %w", id, lbID, ErrNotFound)
			}
		}
		return nil
	})
}

// Targets lists the targets of a load balancer in registration order.
func (s *Store) Targets(ctx context.Context, lbID string) ([]Target, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT lb_id, target_id, kind, addr, port, registered_at
		FROM lb_targets WHERE lb_id = ? ORDER BY rowid`, lbID)
	if err != nil {
		return nil, fmt.Errorf("list targets of %s: %w", lbID, err)
	}
	defer rows.Close()
	out := []Target{}
	for rows.Next() {
		var t Target
		var registered string
		if err := rows.Scan(&t.LoadBalancerID, &t.ID, &t.Kind, &t.Addr, &t.Port, &registered); err != nil {
			return nil, fmt.Errorf("list targets of %s: %w", lbID, err)
		}
		t.RegisteredAt = parseTime(registered)
		out = append(out, t)
	}
	return out, rows.Err()
}

// LoadBalancersOfInstance returns the ids of the load balancers the
// instance is registered with.
func (s *Store) LoadBalancersOfInstance(ctx context.Context, instanceID string) ([]string, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT lb_id FROM lb_targets WHERE kind = 'instance' AND target_id = ? ORDER BY lb_id`, instanceID)
	if err != nil {
		return nil, fmt.Errorf("load balancers of %s: %w", instanceID, err)
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("load balancers of %s: %w", instanceID, err)
		}
		out = append(out, id)
	}
	return out, rows.Err()
}
