package accounts

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kumo/internal/clock"
	"kumo/store"
)

// TestNoPlaintextSecretOnDisk makes keys and searches every database file,
// the write-ahead log included, for their secrets.
func TestNoPlaintextSecretOnDisk(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	admin, err := e.svc.Bootstrap(ctx, noEnv)
	if err != nil {
		t.Fatal(err)
	}
	secrets := []string{admin.SecretAccessKey}
	a, _ := e.svc.CreateAccount(ctx, "alice")
	for range 3 {
		k, err := e.svc.CreateAccessKey(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		secrets = append(secrets, k.Secret)
	}
	search := func(when string) {
		files, _ := filepath.Glob(filepath.Join(e.dir, "kumo.db*"))
		if len(files) == 0 {
			t.Fatal("no database files")
		}
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range secrets {
				if bytes.Contains(b, []byte(s)) {
					t.Fatalf("%s: %s holds a plaintext secret", when, filepath.Base(f))
				}
			}
		}
	}
	search("open")
	e.store.Close()
	search("closed")

	info, err := os.Stat(filepath.Join(e.dir, MasterKeyFile))
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("master key: %v, %v", info, err)
	}
}

func TestMasterKeyProblems(t *testing.T) {
	keyPath := func(e *testEnv) string { return filepath.Join(e.dir, MasterKeyFile) }
	for _, tc := range []struct {
		name    string
		secrets bool // whether keys are stored before the change
		change  func(t *testing.T, e *testEnv)
		message string // part of the error; "" means Open succeeds
	}{
		{name: "same key", secrets: true, change: func(*testing.T, *testEnv) {}},
		{name: "missing key, nothing stored", change: func(t *testing.T, e *testEnv) { os.Remove(keyPath(e)) }},
		{name: "missing key", secrets: true, change: func(t *testing.T, e *testEnv) { os.Remove(keyPath(e)) },
			message: "is missing, but the database holds access keys"},
		{name: "wrong key", secrets: true, change: func(t *testing.T, e *testEnv) {
			os.WriteFile(keyPath(e), []byte(strings.Repeat("ab", 32)+"\n"), 0o600)
		}, message: "does not decrypt the stored access keys"},
		{name: "malformed key", change: func(t *testing.T, e *testEnv) {
			os.WriteFile(keyPath(e), []byte("not a key\n"), 0o600)
		}, message: "is not 64 hexadecimal digits"},
		{name: "short key", change: func(t *testing.T, e *testEnv) {
			os.WriteFile(keyPath(e), []byte(strings.Repeat("ab", 16)+"\n"), 0o600)
		}, message: "is not 64 hexadecimal digits"},
		{name: "key readable by others", change: func(t *testing.T, e *testEnv) { os.Chmod(keyPath(e), 0o644) },
			message: "is open to other users (mode 0644)"},
		{name: "key is a folder", change: func(t *testing.T, e *testEnv) {
			os.Remove(keyPath(e))
			os.Mkdir(keyPath(e), 0o700)
		}, message: "is not a regular file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			ctx := context.Background()
			if tc.secrets {
				if _, err := e.svc.Bootstrap(ctx, noEnv); err != nil {
					t.Fatal(err)
				}
			}
			tc.change(t, e)
			_, err := Open(ctx, e.store, e.dir, clock.NewFake(t0))
			if tc.message == "" {
				if err != nil {
					t.Fatalf("Open: %v", err)
				}
				return
			}
			if !errors.Is(err, ErrMasterKey) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("Open: %v, want ErrMasterKey saying %q", err, tc.message)
			}
		})
	}
}

// TestCiphertextBoundToKey moves one key's ciphertext onto another key's
// row: it must not open there.
func TestCiphertextBoundToKey(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, _ := e.svc.CreateAccount(ctx, "alice")
	k1, _ := e.svc.CreateAccessKey(ctx, a.ID)
	k2, _ := e.svc.CreateAccessKey(ctx, a.ID)
	// Open checks the first key (by time, then id; both share a time), so
	// the ciphertext goes onto the other.
	if k2.ID < k1.ID {
		k1, k2 = k2, k1
	}
	e.store.Close()
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(e.dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	_, err = db.Exec(`UPDATE access_keys SET secret_ciphertext = (SELECT secret_ciphertext FROM access_keys WHERE access_key_id = ?)
		WHERE access_key_id = ?`, k1.ID, k2.ID)
	db.Close()
	if err != nil {
		t.Fatal(err)
	}
	st, err := store.Open(ctx, filepath.Join(e.dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	svc, err := Open(ctx, st, e.dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := svc.Lookup(ctx, k1.ID); err != nil {
		t.Fatalf("untouched key: %v", err)
	}
	if _, _, err := svc.Lookup(ctx, k2.ID); !errors.Is(err, ErrMasterKey) {
		t.Fatalf("moved ciphertext: %v, want ErrMasterKey", err)
	}
}
