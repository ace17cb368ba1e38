// Package store owns kumo's durable state: one SQLite database (WAL mode)
// holding images, instances and their addresses, resource tags, load
// balancers with their listeners and targets, and the numbered schema
// migrations that shape it.
//
// It knows rows and transactions, not rules: which state an instance may move
// to is decided by the instances package, which asks the store to apply a
// change only if the row still holds what it read (compare-and-set). It must
// not import the hypervisor, the API or any service package.
package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"time"

	_ "github.com/mattn/go-sqlite3" // registers the "sqlite3" driver
)

var (
	// ErrNotFound means no row has the requested key.
	ErrNotFound = errors.New("not found")
	// ErrStale means a compare-and-set update found the row changed.
	ErrStale = errors.New("row changed concurrently")
	// ErrDuplicate means a unique key is already taken.
	ErrDuplicate = errors.New("duplicate key")
	// ErrExhausted means an address pool has no free address left.
	ErrExhausted = errors.New("address pool exhausted")
	// ErrLimit means an insert would pass a configured limit.
	ErrLimit = errors.New("limit reached")
	// ErrOwnerLimit means an insert would pass an owner's own limit.
	ErrOwnerLimit = errors.New("owner's limit reached")
	// ErrTokenUsed means the owner already used the client token.
	ErrTokenUsed = errors.New("client token already used")
	// ErrMACTaken means a live instance has the MAC address already.
	ErrMACTaken = errors.New("MAC address taken")
)

// Store is the database handle. It is safe for concurrent use.
type Store struct {
	db *sql.DB // reads, side by side: WAL lets them run during a write
	// w writes, over one connection: writers queue for it in Go, first
	// come first served, rather than in SQLite's busy handler, which
	// sleeps and retries and can let one writer lose the lock for the
	// whole busy timeout under a steady stream of others.
	w *sql.DB
}

// maxReaders bounds the read connections; idle ones are kept, since
// opening one costs a file open and a schema read.
const maxReaders = 16

// Open opens (creating if needed) the database at path and migrates it.
func Open(ctx context.Context, path string) (*Store, error) {
	q := url.Values{}
	q.Set("_journal_mode", "WAL")
	// FULL makes every commit durable before it is acknowledged; a commit is
	// rare next to the work it records (booting a VM), so the fsync is cheap.
	q.Set("_synchronous", "FULL")
	q.Set("_busy_timeout", "10000")
	q.Set("_foreign_keys", "on")
	// Write transactions take the lock up front so two writers never
	// deadlock upgrading read locks.
	q.Set("_txlock", "immediate")
	dsn := "file:" + path + "?" + q.Encode()
	w, err := sql.Open("sqlite3", dsn)
	if err != nil {
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	// The writer creates the file and switches it to WAL before any
	// reader opens it.
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db, err := sql.Open("sqlite3", dsn)
	if err != nil {
		w.Close()
		return nil, fmt.Errorf("open database %s: %w", path, err)
	}
	db.SetMaxOpenConns(maxReaders)
	db.SetMaxIdleConns(maxReaders)
	s := &Store{db: db, w: w}
	if err := s.migrate(ctx); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// Close closes the database.
func (s *Store) Close() error { return errors.Join(s.db.Close(), s.w.Close()) }

// tx runs fn in a write transaction, committing when fn returns nil. fn
// must write through its transaction only: the store has one write
// connection, and fn holds it.
func (s *Store) tx(ctx context.Context, fn func(*sql.Tx) error) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin transaction: %w", err)
	}
	if err := fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// Times are stored as RFC 3339 text in UTC: readable with the sqlite3 shell
// and ordered correctly as strings.
const timeLayout = "2006-01-02T15:04:05.000000000Z"

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format(timeLayout)
}

func parseTime(s string) time.Time {
	if s == "" {
		return time.Time{}
	}
	t, err := time.Parse(timeLayout, s)
	if err != nil {
		return time.Time{}
	}
	return t
}

func nullString(s string) sql.NullString { return sql.NullString{String: s, Valid: s != ""} }
