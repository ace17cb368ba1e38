package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

var (
	// ErrInUse means a row is still referenced by live ones.
	ErrInUse = errors.New("in use")
	// ErrGroupGone means a launch's placement group was deleted.
	ErrGroupGone = errors.New("placement group deleted")
)

// PlacementGroup is an account's placement group.
type PlacementGroup struct {
	ID         string
	Owner      string
	Name       string
	Strategy   string // cluster, spread or partition
	Partitions int    // partition groups only
	CreatedAt  time.Time
}

const placementGroupColumns = `id, owner, name, strategy, partitions, created_at`

func scanPlacementGroup(row interface{ Scan(...any) error }) (PlacementGroup, error) {
	var g PlacementGroup
	var created string
	err := row.Scan(&g.ID, &g.Owner, &g.Name, &g.Strategy, &g.Partitions, &created)
	g.CreatedAt = parseTime(created)
	return g, err
}

// InsertPlacementGroup records a group; ErrDuplicate when its owner has
// one of that name.
func (s *Store) InsertPlacementGroup(ctx context.Context, g PlacementGroup) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO placement_groups (`+placementGroupColumns+`) VALUES (?,?,?,?,?,?)`,
		g.ID, g.Owner, g.Name, g.Strategy, g.Partitions, formatTime(g.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("placement group %q: %w", g.Name, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("insert placement group %s: %w", g.ID, err)
	}
	return nil
}

// PlacementGroupByName returns owner's group called name.
func (s *Store) PlacementGroupByName(ctx context.Context, owner, name string) (PlacementGroup, error) {
	g, err := scanPlacementGroup(s.db.QueryRowContext(ctx,
		`SELECT `+placementGroupColumns+` FROM placement_groups WHERE owner = ? AND name = ?`, owner, name))
	if errors.Is(err, sql.ErrNoRows) {
		return PlacementGroup{}, fmt.Errorf("placement group %q: %w", name, ErrNotFound)
	}
	return g, err
}

// PlacementGroupByID returns the group with id, whoever owns it.
func (s *Store) PlacementGroupByID(ctx context.Context, id string) (PlacementGroup, error) {
	g, err := scanPlacementGroup(s.db.QueryRowContext(ctx,
		`SELECT `+placementGroupColumns+` FROM placement_groups WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return PlacementGroup{}, fmt.Errorf("placement group %s: %w", id, ErrNotFound)
	}
	return g, err
}

// PlacementGroups lists owner's groups by name.
func (s *Store) PlacementGroups(ctx context.Context, owner string) ([]PlacementGroup, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+placementGroupColumns+` FROM placement_groups WHERE owner = ? ORDER BY name`, owner)
	if err != nil {
		return nil, fmt.Errorf("list placement groups: %w", err)
	}
	defer rows.Close()
	var out []PlacementGroup
	for rows.Next() {
		g, err := scanPlacementGroup(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, g)
	}
	return out, rows.Err()
}

// DeletePlacementGroup removes owner's group called name, unless an
// instance that is not terminated is in it (ErrInUse): the check and the
// delete are one transaction, so no launch slips in between.
func (s *Store) DeletePlacementGroup(ctx context.Context, owner, name string) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		var id string
		err := tx.QueryRowContext(ctx, `SELECT id FROM placement_groups WHERE owner = ? AND name = ?`, owner, name).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			return fmt.Errorf("placement group %q: %w", name, ErrNotFound)
		}
		if err != nil {
			return err
		}
		var members int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM instances WHERE placement_group = ? AND state != 'terminated'`, id).Scan(&members); err != nil {
			return err
		}
		if members > 0 {
			return fmt.Errorf("placement group %q holds %d instances: %w", name, members, ErrInUse)
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM placement_groups WHERE id = ?`, id)
		return err
	})
}
