package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ErrHostInUse means a host still holds capacity claims.
var ErrHostInUse = errors.New("host holds capacity claims")

// Host is a host row. The hosts package owns what State and Health mean.
type Host struct {
	ID    string
	Name  string
	URI   string // libvirt URI
	Zone  string
	Netns string // network namespace of the host's data plane; "" for none

	State        string // administrative: "enabled" or "draining"
	Health       string // "unknown", "up" or "down"
	HealthReason string // why it is down, for people

	ReservedVCPUs     int
	ReservedMemoryMiB int64
	CPURatio          float64
	MemoryRatio       float64

	HostReport

	CreatedAt time.Time
	UpdatedAt time.Time
}

// HostReport is what a host last said of itself.
type HostReport struct {
	CPUs      int
	MemoryMiB int64
	Arch      string
}

// Usage is what the capacity claims on one host add up to.
type Usage struct {
	VCPUs     int
	MemoryMiB int64
	Claims    int
}

// GroupUsage is what one placement group holds on one host.
type GroupUsage struct {
	Claims int
	// Partition is the partition those claims belong to; the scheduler
	// never mixes partitions of a group on a host.
	Partition int
}

// HostLoad is a host with the claims on it, read in one statement.
type HostLoad struct {
	Host
	Used Usage
	// Group is the claims of the placement group a ClaimQuery names; zero
	// outside ClaimCapacity.
	Group GroupUsage
}

// Claim is one instance's hold on a host's vCPUs and memory.
type Claim struct {
	InstanceID string
	HostID     string
	VCPUs      int
	MemoryMiB  int64
	Group      string // placement group name; "" for none
	Partition  int    // partition within Group; 0 for none
	CreatedAt  time.Time
}

const hostColumns = `h.id, h.name, h.uri, h.zone, h.netns, h.state, h.health, h.health_reason,
	h.reserved_vcpus, h.reserved_memory_mib, h.cpu_ratio, h.memory_ratio, h.cpus, h.memory_mib, h.arch,
	h.created_at, h.updated_at`

// hostLoadQuery reads hosts with their usage. The usage is summed in a
// subquery grouped by host, which SQLite answers from the covering index
// capacity_claims_host; where narrows both the hosts and the claims summed.
func hostLoadQuery(where string) string {
	claimsWhere, hostsWhere := "", ""
	if where != "" {
		claimsWhere = ` WHERE host_id ` + where
		hostsWhere = ` WHERE h.id ` + where
	}
	return `SELECT ` + hostColumns + `, COALESCE(u.vcpus, 0), COALESCE(u.memory_mib, 0), COALESCE(u.claims, 0)
		FROM hosts h LEFT JOIN (
			SELECT host_id, SUM(vcpus) AS vcpus, SUM(memory_mib) AS memory_mib, COUNT(*) AS claims
			FROM capacity_claims` + claimsWhere + ` GROUP BY host_id
		) u ON u.host_id = h.id` + hostsWhere + ` ORDER BY h.name`
}

type querier interface {
	QueryContext(context.Context, string, ...any) (*sql.Rows, error)
}

func loadHosts(ctx context.Context, q querier, where string, args ...any) ([]HostLoad, error) {
	// The arguments fill where twice: in the subquery, then for the hosts.
	rows, err := q.QueryContext(ctx, hostLoadQuery(where), append(append([]any{}, args...), args...)...)
	if err != nil {
		return nil, fmt.Errorf("list hosts: %w", err)
	}
	defer rows.Close()
	out := []HostLoad{}
	for rows.Next() {
		var h HostLoad
		var created, updated string
		err := rows.Scan(&h.ID, &h.Name, &h.URI, &h.Zone, &h.Netns, &h.State, &h.Health, &h.HealthReason,
			&h.ReservedVCPUs, &h.ReservedMemoryMiB, &h.CPURatio, &h.MemoryRatio, &h.CPUs, &h.MemoryMiB, &h.Arch,
			&created, &updated, &h.Used.VCPUs, &h.Used.MemoryMiB, &h.Used.Claims)
		if err != nil {
			return nil, fmt.Errorf("list hosts: %w", err)
		}
		h.CreatedAt, h.UpdatedAt = parseTime(created), parseTime(updated)
		out = append(out, h)
	}
	return out, rows.Err()
}

// InsertHost adds a host; ErrDuplicate when its name is taken.
func (s *Store) InsertHost(ctx context.Context, h Host) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO hosts (id, name, uri, zone, netns, state, health, health_reason,
		reserved_vcpus, reserved_memory_mib, cpu_ratio, memory_ratio, cpus, memory_mib, arch, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		h.ID, h.Name, h.URI, h.Zone, h.Netns, h.State, h.Health, h.HealthReason,
		h.ReservedVCPUs, h.ReservedMemoryMiB, h.CPURatio, h.MemoryRatio, h.CPUs, h.MemoryMiB, h.Arch,
		formatTime(h.CreatedAt), formatTime(h.UpdatedAt))
	if isUniqueViolation(err) || isPrimaryKeyViolation(err) {
		return fmt.Errorf("host %q: %w", h.Name, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("insert host %s: %w", h.ID, err)
	}
	return nil
}

// Hosts lists every host by name, with its usage.
func (s *Store) Hosts(ctx context.Context) ([]HostLoad, error) {
	return loadHosts(ctx, s.db, "")
}

// Host returns the host with id, with its usage.
func (s *Store) Host(ctx context.Context, id string) (HostLoad, error) {
	hs, err := loadHosts(ctx, s.db, "= ?", id)
	if err != nil {
		return HostLoad{}, err
	}
	if len(hs) == 0 {
		return HostLoad{}, fmt.Errorf("host %s: %w", id, ErrNotFound)
	}
	return hs[0], nil
}

// HostByName returns the host called name, with its usage.
func (s *Store) HostByName(ctx context.Context, name string) (HostLoad, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT id FROM hosts WHERE name = ?`, name).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return HostLoad{}, fmt.Errorf("host %q: %w", name, ErrNotFound)
	}
	if err != nil {
		return HostLoad{}, fmt.Errorf("host %q: %w", name, err)
	}
	return s.Host(ctx, id)
}

// SetHostState records a host's administrative state.
func (s *Store) SetHostState(ctx context.Context, id, state string, at time.Time) error {
	return s.updateHost(ctx, id, `state = ?`, state, formatTime(at))
}

// SetHostHealth records what a probe of the host found.
func (s *Store) SetHostHealth(ctx context.Context, id, health, reason string, r HostReport, at time.Time) error {
	return s.updateHost(ctx, id, `health = ?, health_reason = ?, cpus = ?, memory_mib = ?, arch = ?`,
		health, reason, r.CPUs, r.MemoryMiB, r.Arch, formatTime(at))
}

// ResetHostsHealth sets every host's health at once, as when none has been
// probed yet.
func (s *Store) ResetHostsHealth(ctx context.Context, health string, at time.Time) error {
	if _, err := s.w.ExecContext(ctx, `UPDATE hosts SET health = ?, updated_at = ? WHERE health <> ?`, health, formatTime(at), health); err != nil {
		return fmt.Errorf("reset host health: %w", err)
	}
	return nil
}

// updateHost sets columns of host id; the last argument is updated_at.
func (s *Store) updateHost(ctx context.Context, id, set string, args ...any) error {
	res, err := s.w.ExecContext(ctx, `UPDATE hosts SET `+set+`, updated_at = ? WHERE id = ?`, append(args, id)...)
	if err != nil {
		return fmt.Errorf("update host %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("host %s: %w", id, ErrNotFound)
	}
	return nil
}

// DeleteHost removes a host that holds no claims; ErrHostInUse otherwise.
func (s *Store) DeleteHost(ctx context.Context, id string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var claims int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM capacity_claims WHERE host_id = ?`, id).Scan(&claims); err != nil {
			return fmt.Errorf("host %s: count claims: %w", id, err)
		}
		if claims > 0 {
			return fmt.Errorf("host %s: %d claims: %w", id, claims, ErrHostInUse)
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM hosts WHERE id = ?`, id)
		if err != nil {
			return fmt.Errorf("delete host %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return fmt.Errorf("host %s: %w", id, ErrNotFound)
		}
		return nil
	})
}

// ClaimQuery says what a claim transaction reads.
type ClaimQuery struct {
	// HostIDs, when not empty, narrows the fleet to those hosts.
	HostIDs []string
	// Group, when set, fills each host's HostLoad.Group.
	Group string
	// Instances, when set, are the instances to be claimed for: if one
	// already holds a claim, ClaimCapacity fails with ErrDuplicate before
	// plan runs, whether or not there would be room.
	Instances []string
}

// ClaimCapacity reads the fleet q describes, hands it to plan and inserts
// the claims plan returns, all in one write transaction, and returns them.
// The store opens write transactions with BEGIN IMMEDIATE, so no other
// writer runs between the read and the insert: two placements cannot both
// see the same free capacity, in this process or another. plan should be
// quick, since every writer waits for it. An error from plan is returned
// as is and nothing is claimed; an instance that already holds a claim
// fails the whole call with ErrDuplicate.
func (s *Store) ClaimCapacity(ctx context.Context, q ClaimQuery, plan func([]HostLoad) ([]Claim, error)) ([]Claim, error) {
	var out []Claim
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := checkUnclaimed(ctx, tx, q.Instances); err != nil {
			return err
		}
		where, args := "", []any(nil)
		if len(q.HostIDs) > 0 {
			where = `IN (` + placeholders(len(q.HostIDs)) + `)`
			for _, id := range q.HostIDs {
				args = append(args, id)
			}
		}
		fleet, err := loadHosts(ctx, tx, where, args...)
		if err != nil {
			return err
		}
		if q.Group != "" {
			if err := loadGroup(ctx, tx, q.Group, fleet); err != nil {
				return err
			}
		}
		claims, err := plan(fleet)
		if err != nil {
			return err
		}
		if _, err := insertClaims(ctx, tx, claims, false); err != nil {
			return err
		}
		out = claims
		return nil
	})
	return out, err
}

func checkUnclaimed(ctx context.Context, tx *sql.Tx, instances []string) error {
	if len(instances) == 0 {
		return nil
	}
	args := make([]any, len(instances))
	for i, id := range instances {
		args[i] = id
	}
	var held string
	err := tx.QueryRowContext(ctx, `SELECT instance_id FROM capacity_claims WHERE instance_id IN (`+placeholders(len(instances))+`) LIMIT 1`, args...).Scan(&held)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		return fmt.Errorf("read claims: %w", err)
	}
	return fmt.Errorf("claim of instance %s: %w", held, ErrDuplicate)
}

func loadGroup(ctx context.Context, tx *sql.Tx, group string, fleet []HostLoad) error {
	rows, err := tx.QueryContext(ctx, `SELECT host_id, COUNT(*), MAX(group_partition) FROM capacity_claims
		WHERE group_name = ? GROUP BY host_id`, group)
	if err != nil {
		return fmt.Errorf("placement group %s: %w", group, err)
	}
	defer rows.Close()
	byHost := map[string]GroupUsage{}
	for rows.Next() {
		var id string
		var g GroupUsage
		if err := rows.Scan(&id, &g.Claims, &g.Partition); err != nil {
			return fmt.Errorf("placement group %s: %w", group, err)
		}
		byHost[id] = g
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("placement group %s: %w", group, err)
	}
	for i := range fleet {
		fleet[i].Group = byHost[fleet[i].ID]
	}
	return nil
}

// AdoptClaims records claims that need no placement, such as those of
// instances found running on a host, and returns how many it added.
// Instances that already hold a claim keep it.
func (s *Store) AdoptClaims(ctx context.Context, claims []Claim) (int, error) {
	var n int
	err := s.tx(ctx, func(tx *sql.Tx) error {
		var err error
		n, err = insertClaims(ctx, tx, claims, true)
		return err
	})
	return n, err
}

// insertClaims inserts claims and returns how many it added; keepExisting
// skips instances that hold one rather than failing with ErrDuplicate.
func insertClaims(ctx context.Context, tx *sql.Tx, claims []Claim, keepExisting bool) (int, error) {
	verb := `INSERT`
	if keepExisting {
		verb = `INSERT OR IGNORE`
	}
	stmt, err := tx.PrepareContext(ctx, verb+` INTO capacity_claims
		(instance_id, host_id, vcpus, memory_mib, group_name, group_partition, created_at) VALUES (?,?,?,?,?,?,?)`)
	if err != nil {
		return 0, fmt.Errorf("insert claims: %w", err)
	}
	defer stmt.Close()
	added := 0
	for _, c := range claims {
		res, err := stmt.ExecContext(ctx, c.InstanceID, c.HostID, c.VCPUs, c.MemoryMiB, c.Group, c.Partition, formatTime(c.CreatedAt))
		switch {
		case isUniqueViolation(err) || isPrimaryKeyViolation(err):
			return 0, fmt.Errorf("claim of instance %s: %w", c.InstanceID, ErrDuplicate)
		case isForeignKeyViolation(err):
			return 0, fmt.Errorf("claim of instance %s on host %s: host: %w", c.InstanceID, c.HostID, ErrNotFound)
		case err != nil:
			return 0, fmt.Errorf("claim of instance %s: %w", c.InstanceID, err)
		}
		k, _ := res.RowsAffected()
		added += int(k)
	}
	return added, nil
}

// ReleaseClaims drops the claims of the instances and returns how many it
// dropped; instances without one are skipped, so releasing twice is safe.
func (s *Store) ReleaseClaims(ctx context.Context, instanceIDs ...string) (int, error) {
	// Batches stay well under SQLite's limit on bound parameters.
	const batch = 500
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		for start := 0; start < len(instanceIDs); start += batch {
			ids := instanceIDs[start:min(start+batch, len(instanceIDs))]
			args := make([]any, len(ids))
			for i, id := range ids {
				args[i] = id
			}
			res, err := tx.ExecContext(ctx, `DELETE FROM capacity_claims WHERE instance_id IN (`+placeholders(len(ids))+`)`, args...)
			if err != nil {
				return err
			}
			k, _ := res.RowsAffected()
			n += k
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release claims: %w", err)
	}
	return int(n), nil
}

// Claims lists the claims on host hostID, or on every host when hostID is
// empty, by instance.
func (s *Store) Claims(ctx context.Context, hostID string) ([]Claim, error) {
	q := `SELECT instance_id, host_id, vcpus, memory_mib, group_name, group_partition, created_at FROM capacity_claims`
	var args []any
	if hostID != "" {
		q += ` WHERE host_id = ?`
		args = append(args, hostID)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY instance_id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list claims: %w", err)
	}
	defer rows.Close()
	out := []Claim{}
	for rows.Next() {
		var c Claim
		var created string
		if err := rows.Scan(&c.InstanceID, &c.HostID, &c.VCPUs, &c.MemoryMiB, &c.Group, &c.Partition, &created); err != nil {
			return nil, fmt.Errorf("list claims: %w", err)
		}
		c.CreatedAt = parseTime(created)
		out = append(out, c)
	}
	return out, rows.Err()
}
