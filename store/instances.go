package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"time"
)

// Instance is an instance row. State is the EC2 state name; the instances
// package owns what the names mean and how they may change.
type Instance struct {
	ID string
	// ReservationID groups the instances of one launch, as EC2's
	// reservations do; LaunchIndex is the instance's place in it.
	ReservationID string
	LaunchIndex   int
	// Owner is the account the instance belongs to; empty for instances
	// made before there were accounts, which only administrators see.
	Owner       string
	Name        string
	ImageID     string
	Type        string
	State       string
	StateReason string
	Host        string
	Network     string
	PrivateIP   string // empty once released
	MAC         string
	UserData    []byte
	KeyName     string // the key pair launched with, "" for none
	// PlacementGroup is the id of the instance's placement group, "" for
	// none, and GroupName its name; Partition its partition in a
	// partition group.
	PlacementGroup string
	GroupName      string
	Partition      int
	LaunchedAt     time.Time
	StartedAt      time.Time // last time it reached running; zero if never
	UpdatedAt      time.Time
	TerminatedAt   time.Time
}

const instanceColumns = `id, owner, name, image_id, type, state, state_reason, host, network, private_ip, mac, user_data, launched_at, started_at, updated_at, terminated_at, key_name, reservation_id, launch_index, placement_group, placement_group_name, partition_number`

func scanInstance(row interface{ Scan(...any) error }) (Instance, error) {
	var in Instance
	var ip sql.NullString
	var launched, started, updated, terminated string
	err := row.Scan(&in.ID, &in.Owner, &in.Name, &in.ImageID, &in.Type, &in.State, &in.StateReason, &in.Host,
		&in.Network, &ip, &in.MAC, &in.UserData, &launched, &started, &updated, &terminated, &in.KeyName, &in.ReservationID, &in.LaunchIndex,
		&in.PlacementGroup, &in.GroupName, &in.Partition)
	in.PrivateIP = ip.String
	in.LaunchedAt, in.StartedAt = parseTime(launched), parseTime(started)
	in.UpdatedAt, in.TerminatedAt = parseTime(updated), parseTime(terminated)
	return in, err
}

// Pool is the address range of a network that instances draw from.
type Pool struct {
	Network  string
	Prefix   netip.Prefix
	Reserved []netip.Addr // addresses never handed out (the gateway)
}

// Launch is the rows of one launch: its instances, of one owner and one
// reservation, and their tags.
type Launch struct {
	// Pool gives each instance its address, or Pools, by host, for
	// instances whose host has a network of its own.
	Pool      Pool
	Pools     map[string]Pool
	Instances []Instance
	Tags      []Tag // each of one of the new instances
	// MaxLive caps the live instances of every owner, MaxOwned those of
	// the launch's owner; 0 is no cap.
	MaxLive, MaxOwned int
	// Token, when its Token is not empty, records the launch under the
	// owner's client token.
	Token ClientToken
}

// CreateInstances inserts a launch's rows and gives each instance a free
// address from its pool, all in one transaction: either every instance
// exists with its address or none does. The image must still be available
// when the transaction runs, and the caps must hold afterwards (ErrLimit,
// ErrOwnerLimit); checking inside the transaction keeps concurrent
// launches from both slipping under a cap. A client token already used by
// the owner fails with ErrTokenUsed, so of two launches racing with one
// token, one creates nothing.
func (s *Store) CreateInstances(ctx context.Context, l Launch) ([]Instance, error) {
	out := make([]Instance, len(l.Instances))
	copy(out, l.Instances)
	tagsOf := map[string][]Tag{}
	for _, t := range l.Tags {
		tagsOf[t.ResourceID] = append(tagsOf[t.ResourceID], t)
	}
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if err := checkCaps(ctx, tx, l); err != nil {
			return err
		}
		if l.Token.Token != "" {
			if err := insertClientToken(ctx, tx, l.Token); err != nil {
				return err
			}
		}
		free := map[string]*freeAddrs{} // by network
		groups := map[string]bool{}     // placement groups seen to exist
		for i := range out {
			var imageState string
			if err := tx.QueryRowContext(ctx, `SELECT state FROM images WHERE id = ?`, out[i].ImageID).Scan(&imageState); err != nil || imageState != "available" {
				return fmt.Errorf("image %s: %w", out[i].ImageID, ErrNotFound)
			}
			if g := out[i].PlacementGroup; g != "" && !groups[g] {
				// Deleting a group checks for members in its own
				// transaction: one of the two sees the other.
				if err := tx.QueryRowContext(ctx, `SELECT 1 FROM placement_groups WHERE id = ?`, g).Scan(new(int)); err != nil {
					return fmt.Errorf("placement group %s: %w", g, ErrGroupGone)
				}
				groups[g] = true
			}
			pool, ok := l.Pools[out[i].Host]
			if !ok {
				pool = l.Pool
			}
			key := pool.Network + " " + pool.Prefix.String()
			if free[key] == nil {
				f, err := freeIn(ctx, tx, pool)
				if err != nil {
					return err
				}
				free[key] = f
			}
			addr, err := free[key].take()
			if err != nil {
				return err
			}
			out[i].PrivateIP = addr.String()
			out[i].Network = pool.Network
			if err := insertInstance(ctx, tx, out[i]); err != nil {
				return err
			}
			if err := insertTags(ctx, tx, out[i].Owner, tagsOf[out[i].ID]); err != nil {
				return err
			}
			delete(tagsOf, out[i].ID)
		}
		for id := range tagsOf {
			return fmt.Errorf("tags of %s, which is not among the new instances", id)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

func checkCaps(ctx context.Context, tx *sql.Tx, l Launch) error {
	if l.MaxLive > 0 {
		live, err := countLive(ctx, tx, "")
		if err != nil {
			return err
		}
		if live+len(l.Instances) > l.MaxLive {
			return fmt.Errorf("%d live instances + %d new > %d: %w", live, len(l.Instances), l.MaxLive, ErrLimit)
		}
	}
	if l.MaxOwned > 0 && len(l.Instances) > 0 {
		owner := l.Instances[0].Owner
		owned, err := countLive(ctx, tx, ` AND owner = ?`, owner)
		if err != nil {
			return err
		}
		if owned+len(l.Instances) > l.MaxOwned {
			return fmt.Errorf("%d live instances of %s + %d new > %d: %w", owned, owner, len(l.Instances), l.MaxOwned, ErrOwnerLimit)
		}
	}
	return nil
}

func insertInstance(ctx context.Context, tx *sql.Tx, in Instance) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO instances (`+instanceColumns+`) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		in.ID, in.Owner, in.Name, in.ImageID, in.Type, in.State, in.StateReason, in.Host, in.Network,
		nullString(in.PrivateIP), in.MAC, in.UserData, formatTime(in.LaunchedAt), formatTime(in.StartedAt), formatTime(in.UpdatedAt),
		formatTime(in.TerminatedAt), in.KeyName, in.ReservationID, in.LaunchIndex, in.PlacementGroup, in.GroupName, in.Partition)
	switch {
	case isUniqueViolation(err) && strings.Contains(err.Error(), "instances.mac"):
		return fmt.Errorf("instance %s: MAC address %s: %w", in.ID, in.MAC, ErrMACTaken)
	case isUniqueViolation(err):
		return fmt.Errorf("instance %s: %w", in.ID, ErrDuplicate)
	case err != nil:
		return fmt.Errorf("insert instance %s: %w", in.ID, err)
	}
	return nil
}

// freeAddrs hands out a pool's free addresses in order.
type freeAddrs struct {
	pool Pool
	used map[netip.Addr]bool
	next netip.Addr
}

func freeIn(ctx context.Context, tx *sql.Tx, pool Pool) (*freeAddrs, error) {
	used, err := usedAddrs(ctx, tx, pool.Network)
	if err != nil {
		return nil, err
	}
	for _, a := range pool.Reserved {
		used[a] = true
	}
	return &freeAddrs{pool: pool, used: used, next: pool.Prefix.Masked().Addr().Next()}, nil // past the network address
}

func (f *freeAddrs) take() (netip.Addr, error) {
	for f.used[f.next] && f.pool.Prefix.Contains(f.next) {
		f.next = f.next.Next()
	}
	if !f.pool.Prefix.Contains(f.next) || isBroadcast(f.pool.Prefix, f.next) {
		return netip.Addr{}, fmt.Errorf("network %s (%s): %w", f.pool.Network, f.pool.Prefix, ErrExhausted)
	}
	f.used[f.next] = true
	return f.next, nil
}

func usedAddrs(ctx context.Context, tx *sql.Tx, network string) (map[netip.Addr]bool, error) {
	rows, err := tx.QueryContext(ctx, `SELECT private_ip FROM instances WHERE network = ? AND private_ip IS NOT NULL`, network)
	if err != nil {
		return nil, fmt.Errorf("list addresses: %w", err)
	}
	defer rows.Close()
	used := map[netip.Addr]bool{}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		if a, err := netip.ParseAddr(s); err == nil {
			used[a] = true
		}
	}
	return used, rows.Err()
}

func isBroadcast(p netip.Prefix, a netip.Addr) bool {
	if !a.Is4() {
		return false
	}
	b := a.As4()
	hostBits := 32 - p.Bits()
	for i := 0; i < hostBits; i++ {
		if b[3-i/8]&(1<<(i%8)) == 0 {
			return false
		}
	}
	return true
}

// Instance returns the instance with id.
func (s *Store) Instance(ctx context.Context, id string) (Instance, error) {
	in, err := scanInstance(s.db.QueryRowContext(ctx, `SELECT `+instanceColumns+` FROM instances WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return Instance{}, fmt.Errorf("instance %s: %w", id, ErrNotFound)
	}
	return in, err
}

// InstanceByAddress returns the live instance holding a private address on
// a network.
func (s *Store) InstanceByAddress(ctx context.Context, network, ip string) (Instance, error) {
	in, err := scanInstance(s.db.QueryRowContext(ctx, `SELECT `+instanceColumns+` FROM instances
		WHERE network = ? AND private_ip = ? AND state <> 'terminated'`, network, ip))
	if errors.Is(err, sql.ErrNoRows) {
		return Instance{}, fmt.Errorf("instance at %s on %s: %w", ip, network, ErrNotFound)
	}
	return in, err
}

// InstanceFilter narrows a listing; empty fields match everything.
type InstanceFilter struct {
	IDs    []string
	States []string
	// Owner, when set, keeps only that account's instances.
	Owner string
	// Reservation, when set, keeps only the instances of that launch.
	Reservation string
	// Host, when set, keeps only the instances recorded on that host.
	Host string
}

// Instances lists instances matching f, in launch order.
func (s *Store) Instances(ctx context.Context, f InstanceFilter) ([]Instance, error) {
	q := `SELECT ` + instanceColumns + ` FROM instances WHERE 1=1`
	var args []any
	if len(f.IDs) > 0 {
		q += ` AND id IN (` + placeholders(len(f.IDs)) + `)`
		for _, id := range f.IDs {
			args = append(args, id)
		}
	}
	if len(f.States) > 0 {
		q += ` AND state IN (` + placeholders(len(f.States)) + `)`
		for _, st := range f.States {
			args = append(args, st)
		}
	}
	if f.Owner != "" {
		q += ` AND owner = ?`
		args = append(args, f.Owner)
	}
	if f.Host != "" {
		q += ` AND host = ?`
		args = append(args, f.Host)
	}
	if f.Reservation != "" {
		q += ` AND reservation_id = ?`
		args = append(args, f.Reservation)
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY launched_at, id`, args...)
	if err != nil {
		return nil, fmt.Errorf("list instances: %w", err)
	}
	defer rows.Close()
	out := []Instance{}
	for rows.Next() {
		in, err := scanInstance(rows)
		if err != nil {
			return nil, fmt.Errorf("list instances: %w", err)
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// SetInstanceState moves an instance from state `from` to `to` and records
// why; ErrStale when the row no longer holds `from`. Reaching "running"
// records the start time; reaching "terminated" releases the address.
func (s *Store) SetInstanceState(ctx context.Context, id, from, to, reason string, at time.Time) error {
	q := `UPDATE instances SET state = ?, state_reason = ?, updated_at = ? WHERE id = ? AND state = ?`
	args := []any{to, reason, formatTime(at), id, from}
	switch to {
	case "running":
		q = `UPDATE instances SET state = ?, state_reason = ?, updated_at = ?, started_at = ? WHERE id = ? AND state = ?`
		args = []any{to, reason, formatTime(at), formatTime(at), id, from}
	case "terminated":
		q = `UPDATE instances SET state = ?, state_reason = ?, updated_at = ?, private_ip = NULL, terminated_at = ? WHERE id = ? AND state = ?`
		args = []any{to, reason, formatTime(at), formatTime(at), id, from}
	}
	res, err := s.w.ExecContext(ctx, q, args...)
	if err != nil {
		return fmt.Errorf("instance %s: set state %s: %w", id, to, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		if _, err := s.Instance(ctx, id); err != nil {
			return err
		}
		return fmt.Errorf("instance %s: not %s: %w", id, from, ErrStale)
	}
	return nil
}

// SetInstanceName renames an instance.
func (s *Store) SetInstanceName(ctx context.Context, id, name string) error {
	res, err := s.w.ExecContext(ctx, `UPDATE instances SET name = ? WHERE id = ?`, name, id)
	if err != nil {
		return fmt.Errorf("instance %s: set name: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("instance %s: %w", id, ErrNotFound)
	}
	return nil
}

// PurgeTerminated deletes instances terminated before cutoff, with their
// tags, and the client tokens of launches none of whose instances is left.
func (s *Store) PurgeTerminated(ctx context.Context, cutoff time.Time) (int, error) {
	const purged = `state = 'terminated' AND terminated_at < ?`
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `DELETE FROM tags WHERE resource_id IN (SELECT id FROM instances WHERE `+purged+`)`, formatTime(cutoff)); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM instances WHERE `+purged, formatTime(cutoff))
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		_, err = tx.ExecContext(ctx, `DELETE FROM client_tokens WHERE created_at < ?
			AND NOT EXISTS (SELECT 1 FROM instances WHERE reservation_id = client_tokens.reservation_id)`, formatTime(cutoff))
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge terminated instances: %w", err)
	}
	return int(n), nil
}

// LiveInstances counts the instances that are not terminated.
func (s *Store) LiveInstances(ctx context.Context) (int, error) {
	return countLive(ctx, s.db, "")
}

// LiveInstancesOf counts owner's instances that are not terminated.
func (s *Store) LiveInstancesOf(ctx context.Context, owner string) (int, error) {
	return countLive(ctx, s.db, ` AND owner = ?`, owner)
}

func countLive(ctx context.Context, q interface {
	QueryRowContext(context.Context, string, ...any) *sql.Row
}, where string, args ...any) (int, error) {
	var n int
	if err := q.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE state <> 'terminated'`+where, args...).Scan(&n); err != nil {
		return 0, fmt.Errorf("count instances: %w", err)
	}
	return n, nil
}

// AdoptOrphans gives owner the instances made before there were accounts,
// and their tags, so that they show up for someone; it returns how many
// instances it adopted.
func (s *Store) AdoptOrphans(ctx context.Context, owner string) (int, error) {
	var n int64
	err := s.tx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `UPDATE tags SET owner = ? WHERE owner = ''
			AND resource_id IN (SELECT id FROM instances WHERE owner = '')`, owner); err != nil {
			return err
		}
		res, err := tx.ExecContext(ctx, `UPDATE instances SET owner = ? WHERE owner = ''`, owner)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("adopt instances without an owner: %w", err)
	}
	return int(n), nil
}
