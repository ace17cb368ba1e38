package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ClientToken is the record of a launch made with a client token, so that
// a retried launch finds it rather than launching again. RequestHash
// fingerprints what was asked: the same token with another request is the
// caller's mistake, not a retry.
type ClientToken struct {
	Owner         string
	Token         string
	RequestHash   string
	ReservationID string
	CreatedAt     time.Time
}

// ClientTokenOf returns owner's record of token, or ErrNotFound.
func (s *Store) ClientTokenOf(ctx context.Context, owner, token string) (ClientToken, error) {
	t := ClientToken{Owner: owner, Token: token}
	var created string
	err := s.db.QueryRowContext(ctx, `SELECT request_hash, reservation_id, created_at FROM client_tokens WHERE owner = ? AND token = ?`,
		owner, token).Scan(&t.RequestHash, &t.ReservationID, &created)
	if errors.Is(err, sql.ErrNoRows) {
		return ClientToken{}, fmt.Errorf("client token %q: %w", token, ErrNotFound)
	}
	if err != nil {
		return ClientToken{}, fmt.Errorf("client token %q: %w", token, err)
	}
	t.CreatedAt = parseTime(created)
	return t, nil
}

func insertClientToken(ctx context.Context, tx *sql.Tx, t ClientToken) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO client_tokens (owner, token, request_hash, reservation_id, created_at) VALUES (?,?,?,?,?)`,
		t.Owner, t.Token, t.RequestHash, t.ReservationID, formatTime(t.CreatedAt))
	if isPrimaryKeyViolation(err) {
		return fmt.Errorf("client token %q: %w", t.Token, ErrTokenUsed)
	}
	if err != nil {
		return fmt.Errorf("record client token %q: %w", t.Token, err)
	}
	return nil
}
