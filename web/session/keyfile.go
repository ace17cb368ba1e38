package session

import (
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"

	"kumo/internal/clock"
	"kumo/internal/keyfile"
)

// KeyFile is the signing key's file name in the data dir: 32 random bytes
// as 64 hex digits and a newline. Losing it only signs everyone out; a
// copy of it lets its holder forge sessions, so it is kept 0600.
const KeyFile = "session.key"

// Open returns a service signing with the key in dataDir, made on first
// use.
func Open(dataDir string, accts Accounts, clk clock.Clock) (*Service, error) {
	path := filepath.Join(dataDir, KeyFile)
	key, err := keyfile.Read(path)
	if errors.Is(err, fs.ErrNotExist) {
		key, err = keyfile.Create(path)
	}
	if err != nil {
		return nil, fmt.Errorf("session key %s: %w", path, err)
	}
	return New(key, accts, clk)
}
