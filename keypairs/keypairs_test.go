package keypairs_test

import (
	"context"
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/keypairs"
	"kumo/store"
)

const (
	ed25519Pub = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIH2qYLc864CAYe3pgsVs/DeiasMOxrifakA/Wr1qucUY"
	garbage    = "ssh-rsa bm90IGEga2V5"
)

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func newService(t *testing.T) (*keypairs.Service, *clock.Fake) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	clk := clock.NewFake(t0)
	return keypairs.New(st, clk), clk
}

func TestCreateAndImport(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	cases := []struct {
		name   string
		create func() (keypairs.KeyPair, error)
		typ    string
		err    error
	}{
		{"create rsa", func() (keypairs.KeyPair, error) {
			k, private, err := s.Create(ctx, "alice", "rsa-key", keypairs.RSA)
			if err == nil && !strings.HasPrefix(private, "-----BEGIN RSA PRIVATE KEY-----") {
				t.Errorf("rsa private key %q", private)
			}
			return k, err
		}, keypairs.RSA, nil},
		{"create ed25519", func() (keypairs.KeyPair, error) {
			k, private, err := s.Create(ctx, "alice", "ed-key", keypairs.ED25519)
			if err == nil && !strings.HasPrefix(private, "-----BEGIN OPENSSH PRIVATE KEY-----") {
				t.Errorf("ed25519 private key %q", private)
			}
			return k, err
		}, keypairs.ED25519, nil},
		{"import", func() (keypairs.KeyPair, error) {
			return s.Import(ctx, "alice", "laptop", []byte(ed25519Pub+" me@laptop\n"))
		}, keypairs.ED25519, nil},
		{"create, name taken", func() (keypairs.KeyPair, error) {
			k, _, err := s.Create(ctx, "alice", "laptop", keypairs.ED25519)
			return k, err
		}, "", keypairs.ErrDuplicate},
		{"import, name taken", func() (keypairs.KeyPair, error) {
			return s.Import(ctx, "alice", "rsa-key", []byte(ed25519Pub))
		}, "", keypairs.ErrDuplicate},
		{"same name, another account", func() (keypairs.KeyPair, error) {
			return s.Import(ctx, "bob", "laptop", []byte(ed25519Pub))
		}, keypairs.ED25519, nil},
		{"garbage", func() (keypairs.KeyPair, error) {
			return s.Import(ctx, "alice", "bad", []byte(garbage))
		}, "", keypairs.ErrFormat},
		{"unknown type", func() (keypairs.KeyPair, error) {
			k, _, err := s.Create(ctx, "alice", "dsa", "dsa")
			return k, err
		}, "", errs.InvalidParameter},
		{"no name", func() (keypairs.KeyPair, error) {
			k, _, err := s.Create(ctx, "alice", "", keypairs.RSA)
			return k, err
		}, "", errs.MissingParameter},
		{"name too long", func() (keypairs.KeyPair, error) {
			return s.Import(ctx, "alice", strings.Repeat("k", 256), []byte(ed25519Pub))
		}, "", errs.InvalidParameter},
		{"name not ASCII", func() (keypairs.KeyPair, error) {
			return s.Import(ctx, "alice", "clé", []byte(ed25519Pub))
		}, "", errs.InvalidParameter},
		{"name with a line break", func() (keypairs.KeyPair, error) {
			return s.Import(ctx, "alice", "a\nb", []byte(ed25519Pub))
		}, "", errs.InvalidParameter},
	}
	for _, c := range cases {
		k, err := c.create()
		if !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
			continue
		}
		if c.err != nil {
			continue
		}
		if !ids.Valid("key", k.ID) || k.Type != c.typ || k.Fingerprint == "" || !k.CreatedAt.Equal(t0) ||
			strings.Count(k.PublicKey, " ") != 1 {
			t.Errorf("%s: %+v", c.name, k)
		}
	}
	// 255 characters is still a name.
	if _, err := s.Import(ctx, "alice", strings.Repeat("k", 255), []byte(ed25519Pub)); err != nil {
		t.Fatalf("255-character name: %v", err)
	}
}

func TestDescribeGetDelete(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	imp := func(owner, name string) keypairs.KeyPair {
		k, err := s.Import(ctx, owner, name, []byte(ed25519Pub))
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	web, db, bobs := imp("alice", "web"), imp("alice", "db"), imp("bob", "web")
	names := func(ks []keypairs.KeyPair) string {
		var out []string
		for _, k := range ks {
			out = append(out, k.Name)
		}
		return strings.Join(out, ",")
	}
	describes := []struct {
		name       string
		names, ids []string
		want       string
		err        error
	}{
		{"all", nil, nil, "db,web", nil},
		{"by name", []string{"web"}, nil, "web", nil},
		{"by id", nil, []string{db.ID}, "db", nil},
		{"unknown name", []string{"web", "nope"}, nil, "", keypairs.ErrNotFound},
		{"another account's id", nil, []string{bobs.ID}, "", keypairs.ErrNotFound},
	}
	for _, c := range describes {
		got, err := s.Describe(ctx, "alice", c.names, c.ids)
		if !errors.Is(err, c.err) || names(got) != c.want {
			t.Errorf("%s: %q, %v; want %q, %v", c.name, names(got), err, c.want, c.err)
		}
	}
	if k, err := s.Get(ctx, "alice", "web"); err != nil || k != web {
		t.Fatalf("get: %+v, %v; want %+v", k, err, web)
	}
	if k, err := s.Get(ctx, "bob", "db"); !errors.Is(err, keypairs.ErrNotFound) {
		t.Fatalf("bob got alice's key: %+v, %v", k, err)
	}

	deletes := []struct {
		name, owner, key, id string
		err                  error
	}{
		{"another account's, by name", "carol", "web", "", nil},
		{"another account's, by id", "carol", "", web.ID, nil},
		{"by name", "alice", "web", "", nil},
		{"again", "alice", "web", "", nil},
		{"by id", "alice", "", db.ID, nil},
		{"neither", "alice", "", "", errs.MissingParameter},
	}
	for _, c := range deletes {
		if err := s.Delete(ctx, c.owner, c.key, c.id); !errors.Is(err, c.err) {
			t.Errorf("delete %s: %v, want %v", c.name, err, c.err)
		}
	}
	if left, err := s.Describe(ctx, "alice", nil, nil); err != nil || len(left) != 0 {
		t.Fatalf("alice has %q, %v", names(left), err)
	}
	if left, err := s.Describe(ctx, "bob", nil, nil); err != nil || names(left) != "web" {
		t.Fatalf("bob has %q, %v", names(left), err)
	}
}

// TestLaunchedWith: an instance is served the key it was launched with,
// never a key made later under the same name.
func TestLaunchedWith(t *testing.T) {
	s, clk := newService(t)
	ctx := context.Background()
	k, err := s.Import(ctx, "alice", "web", []byte(ed25519Pub))
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Minute)
	launched := clk.Now()
	if got, err := s.LaunchedWith(ctx, "alice", "web", launched); err != nil || got != k {
		t.Fatalf("launch key: %+v, %v", got, err)
	}
	if got, err := s.LaunchedWith(ctx, "alice", "web", launched.Add(-2*time.Minute)); !errors.Is(err, keypairs.ErrNotFound) {
		t.Fatalf("a key made after launch: %+v, %v", got, err)
	}
	if err := s.Delete(ctx, "alice", "web", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := s.LaunchedWith(ctx, "alice", "web", launched); !errors.Is(err, keypairs.ErrNotFound) {
		t.Fatalf("deleted key: %v", err)
	}
	clk.Advance(time.Minute)
	if _, _, err := s.Create(ctx, "alice", "web", keypairs.ED25519); err != nil {
		t.Fatal(err)
	}
	if got, err := s.LaunchedWith(ctx, "alice", "web", launched); !errors.Is(err, keypairs.ErrNotFound) {
		t.Fatalf("a new key under the old name: %+v, %v", got, err)
	}
}
