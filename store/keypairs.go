package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// KeyPair is a key pair row: the public half only, since a private key is
// handed to its owner once and never kept. The keypairs package owns what
// the fields mean. Names are unique per owner, not across owners.
type KeyPair struct {
	ID          string
	Owner       string
	Name        string
	Type        string
	Fingerprint string
	PublicKey   string
	CreatedAt   time.Time
}

const keyPairColumns = `id, owner, name, type, fingerprint, public_key, created_at`

func scanKeyPair(row interface{ Scan(...any) error }) (KeyPair, error) {
	var k KeyPair
	var created string
	err := row.Scan(&k.ID, &k.Owner, &k.Name, &k.Type, &k.Fingerprint, &k.PublicKey, &created)
	k.CreatedAt = parseTime(created)
	return k, err
}

// InsertKeyPair adds a key pair; ErrDuplicate when its owner already has
// one of that name. A clash of ids is a plain failure, so that
// ErrDuplicate always means the name.
func (s *Store) InsertKeyPair(ctx context.Context, k KeyPair) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO key_pairs (`+keyPairColumns+`) VALUES (?,?,?,?,?,?,?)`,
		k.ID, k.Owner, k.Name, k.Type, k.Fingerprint, k.PublicKey, formatTime(k.CreatedAt))
	if isUniqueViolation(err) {
		return fmt.Errorf("key pair name %q: %w", k.Name, ErrDuplicate)
	}
	if err != nil {
		return fmt.Errorf("insert key pair %s: %w", k.ID, err)
	}
	return nil
}

// KeyPair returns owner's key pair called name.
func (s *Store) KeyPair(ctx context.Context, owner, name string) (KeyPair, error) {
	k, err := scanKeyPair(s.db.QueryRowContext(ctx,
		`SELECT `+keyPairColumns+` FROM key_pairs WHERE owner = ? AND name = ?`, owner, name))
	if errors.Is(err, sql.ErrNoRows) {
		return KeyPair{}, fmt.Errorf("key pair %q: %w", name, ErrNotFound)
	}
	return k, err
}

// KeyPairs lists owner's key pairs by name. Names and ids, when given,
// each narrow the list to the key pairs they name.
func (s *Store) KeyPairs(ctx context.Context, owner string, names, ids []string) ([]KeyPair, error) {
	q := `SELECT ` + keyPairColumns + ` FROM key_pairs WHERE owner = ?`
	args := []any{owner}
	if len(names) > 0 {
		q += ` AND name IN (` + placeholders(len(names)) + `)`
		for _, n := range names {
			args = append(args, n)
		}
	}
	if len(ids) > 0 {
		q += ` AND id IN (` + placeholders(len(ids)) + `)`
		for _, id := range ids {
			args = append(args, id)
		}
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY name`, args...)
	if err != nil {
		return nil, fmt.Errorf("list key pairs: %w", err)
	}
	defer rows.Close()
	out := []KeyPair{}
	for rows.Next() {
		k, err := scanKeyPair(rows)
		if err != nil {
			return nil, fmt.Errorf("list key pairs: %w", err)
		}
		out = append(out, k)
	}
	return out, rows.Err()
}

// DeleteKeyPair deletes owner's key pair called name; ErrNotFound when
// there is none.
func (s *Store) DeleteKeyPair(ctx context.Context, owner, name string) error {
	return s.deleteKeyPair(ctx, `name`, owner, name)
}

// DeleteKeyPairByID deletes owner's key pair with id; ErrNotFound when
// owner has none with that id, whoever else might.
func (s *Store) DeleteKeyPairByID(ctx context.Context, owner, id string) error {
	return s.deleteKeyPair(ctx, `id`, owner, id)
}

// deleteKeyPair deletes by column, one of the two constants above; never a
// caller's text.
func (s *Store) deleteKeyPair(ctx context.Context, column, owner, value string) error {
	res, err := s.w.ExecContext(ctx, `DELETE FROM key_pairs WHERE owner = ? AND `+column+` = ?`, owner, value)
	if err != nil {
		return fmt.Errorf("delete key pair %q: %w", value, err)
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return fmt.Errorf("key pair %q: %w", value, ErrNotFound)
	}
	return nil
}
