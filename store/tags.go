package store

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// Tag is one tag of a resource. A resource has at most one tag per key.
// Tags belong to the owner of their resource; the tags package owns the
// rules for keys, values and how many a resource may have.
type Tag struct {
	ResourceID string
	Key        string
	Value      string
}

// TagMatch names tags to delete: the tag with Key, and with AnyValue
// whatever its value, else only if its value is Value.
type TagMatch struct {
	Key      string
	Value    string
	AnyValue bool
}

// TagFilter narrows a listing of an owner's tags; each field that is not
// empty keeps only the tags matching one of its values exactly.
type TagFilter struct {
	ResourceIDs []string
	// IDPrefixes keeps the tags of resources whose ids start with one of
	// them ("i-"): the store knows ids, not what their prefixes mean.
	IDPrefixes []string
	Keys       []string
	Values     []string
}

// SetTags gives owner's resources the tags, replacing the value of a key a
// resource already has, in one transaction. If a resource would then have
// more than maxPerResource tags, nothing changes and the error wraps
// ErrLimit.
func (s *Store) SetTags(ctx context.Context, owner string, tags []Tag, maxPerResource int) error {
	return s.tx(ctx, func(tx *sql.Tx) error {
		if err := insertTags(ctx, tx, owner, tags); err != nil {
			return err
		}
		resources := make([]any, 0, len(tags))
		seen := map[string]bool{}
		for _, t := range tags {
			if !seen[t.ResourceID] {
				seen[t.ResourceID] = true
				resources = append(resources, t.ResourceID)
			}
		}
		if len(resources) == 0 {
			return nil
		}
		var id string
		var n int
		err := tx.QueryRowContext(ctx, `SELECT resource_id, COUNT(*) FROM tags WHERE resource_id IN (`+placeholders(len(resources))+`)
			GROUP BY resource_id HAVING COUNT(*) > ? LIMIT 1`, append(resources, maxPerResource)...).Scan(&id, &n)
		switch {
		case err == sql.ErrNoRows:
			return nil
		case err != nil:
			return fmt.Errorf("count tags: %w", err)
		}
		return fmt.Errorf("resource %s would have %d tags, more than %d: %w", id, n, maxPerResource, ErrLimit)
	})
}

// insertTags inserts or replaces tags of owner's resources within tx. A
// resource's tags are its owner's: another owner's tag is left as it is.
func insertTags(ctx context.Context, tx *sql.Tx, owner string, tags []Tag) error {
	for _, t := range tags {
		_, err := tx.ExecContext(ctx, `INSERT INTO tags (resource_id, owner, key, value) VALUES (?,?,?,?)
			ON CONFLICT (resource_id, key) DO UPDATE SET value = excluded.value WHERE tags.owner = excluded.owner`,
			t.ResourceID, owner, t.Key, t.Value)
		if err != nil {
			return fmt.Errorf("tag %s with %q: %w", t.ResourceID, t.Key, err)
		}
	}
	return nil
}

// DeleteTags deletes, in one transaction, the tags of owner's resources
// that match one of matches; with no matches, every tag of the resources.
func (s *Store) DeleteTags(ctx context.Context, owner string, resourceIDs []string, matches []TagMatch) error {
	if len(resourceIDs) == 0 {
		return nil
	}
	base := `DELETE FROM tags WHERE owner = ? AND resource_id IN (` + placeholders(len(resourceIDs)) + `)`
	args := []any{owner}
	for _, id := range resourceIDs {
		args = append(args, id)
	}
	return s.tx(ctx, func(tx *sql.Tx) error {
		if len(matches) == 0 {
			if _, err := tx.ExecContext(ctx, base, args...); err != nil {
				return fmt.Errorf("delete tags: %w", err)
			}
			return nil
		}
		for _, m := range matches {
			q, a := base+` AND key = ?`, append(slices.Clip(args), m.Key)
			if !m.AnyValue {
				q, a = q+` AND value = ?`, append(a, m.Value)
			}
			if _, err := tx.ExecContext(ctx, q, a...); err != nil {
				return fmt.Errorf("delete tag %q: %w", m.Key, err)
			}
		}
		return nil
	})
}

// Tags lists owner's tags that pass f, ordered by resource and key.
func (s *Store) Tags(ctx context.Context, owner string, f TagFilter) ([]Tag, error) {
	q := `SELECT resource_id, key, value FROM tags WHERE owner = ?`
	args := []any{owner}
	in := func(column string, values []string) {
		if len(values) == 0 {
			return
		}
		q += ` AND ` + column + ` IN (` + placeholders(len(values)) + `)`
		for _, v := range values {
			args = append(args, v)
		}
	}
	in("resource_id", f.ResourceIDs)
	in("key", f.Keys)
	in("value", f.Values)
	if len(f.IDPrefixes) > 0 {
		var alts []string
		for _, p := range f.IDPrefixes {
			// substr rather than LIKE, whose _ and % a prefix could hold.
			alts = append(alts, `substr(resource_id, 1, ?) = ?`)
			args = append(args, len(p), p)
		}
		q += ` AND (` + strings.Join(alts, ` OR `) + `)`
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY resource_id, key`, args...)
	if err != nil {
		return nil, fmt.Errorf("list tags: %w", err)
	}
	defer rows.Close()
	out := []Tag{}
	for rows.Next() {
		var t Tag
		if err := rows.Scan(&t.ResourceID, &t.Key, &t.Value); err != nil {
			return nil, fmt.Errorf("list tags: %w", err)
		}
		out = append(out, t)
	}
	return out, rows.Err()
}
