package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// ControlPlaneID returns this database's identity, made on first use. It
// marks the domains this control plane creates, so that two kumo control
// planes sharing one hypervisor never mistake each other's domains for
// orphans.
func (s *Store) ControlPlaneID(ctx context.Context) (string, error) {
	var b [8]byte
	rand.Read(b[:])
	if _, err := s.w.ExecContext(ctx, `INSERT OR IGNORE INTO meta (key, value) VALUES ('control_plane_id', ?)`, hex.EncodeToString(b[:])); err != nil {
		return "", fmt.Errorf("control plane id: %w", err)
	}
	var id string
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'control_plane_id'`).Scan(&id); err != nil {
		return "", fmt.Errorf("control plane id: %w", err)
	}
	return id, nil
}
