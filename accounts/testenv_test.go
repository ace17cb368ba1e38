package accounts

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"kumo/internal/clock"
	"kumo/store"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

// testEnv is a data dir with a database, opened as kumod opens it.
type testEnv struct {
	dir   string
	store *store.Store
	svc   *Service
}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	e := &testEnv{dir: t.TempDir()}
	e.reopen(t)
	t.Cleanup(func() { e.store.Close() })
	return e
}

// reopen closes and opens the database and the service again, as a
// restart of kumod does.
func (e *testEnv) reopen(t *testing.T) {
	t.Helper()
	if e.store != nil {
		e.store.Close()
	}
	st, err := store.Open(context.Background(), filepath.Join(e.dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	e.store = st
	svc, err := Open(context.Background(), st, e.dir, clock.NewFake(t0))
	if err != nil {
		t.Fatal(err)
	}
	e.svc = svc
}

func noEnv(string) string { return "" }

func envOf(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}
