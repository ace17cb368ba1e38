package accounts

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"kumo/internal/errs"
)

func TestCreateAccount(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct {
		name string
		err  error
	}{
		{"alice", nil},
		{"bob.smith+ci@example.com", nil},
		{"ALICE", ErrDuplicateName},
		{"", errs.InvalidParameter},
		{strings.Repeat("a", 65), errs.InvalidParameter},
		{"with space", errs.InvalidParameter},
		{"semi;colon", errs.InvalidParameter},
	} {
		a, err := e.svc.CreateAccount(ctx, tc.name)
		if !errors.Is(err, tc.err) {
			t.Errorf("CreateAccount(%q): %v, want %v", tc.name, err, tc.err)
			continue
		}
		if err != nil {
			continue
		}
		if !regexp.MustCompile(`^[0-9]{12}$`).MatchString(a.ID) || a.Name != tc.name || a.Admin || !a.CreatedAt.Equal(t0) {
			t.Errorf("account %+v", a)
		}
		if got, err := e.svc.Get(ctx, a.ID); err != nil || got != a {
			t.Errorf("Get(%s) = %+v, %v", a.ID, got, err)
		}
	}
	all, err := e.svc.List(ctx)
	if err != nil || len(all) != 2 {
		t.Fatalf("List: %+v, %v", all, err)
	}
	if _, err := e.svc.Get(ctx, "000000000000"); !errors.Is(err, ErrAccountNotFound) {
		t.Fatalf("Get unknown: %v", err)
	}
}

func TestAccessKeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, err := e.svc.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	k1, err := e.svc.CreateAccessKey(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`^AKIA[A-Z2-7]{16}$`).MatchString(k1.ID) || len(k1.Secret) != 40 || !k1.Active || k1.AccountID != a.ID {
		t.Fatalf("new key %+v", k1)
	}
	k2, err := e.svc.CreateAccessKey(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k1.ID == k2.ID || k1.Secret == k2.Secret {
		t.Fatal("two keys alike")
	}
	if _, err := e.svc.CreateAccessKey(ctx, "000000000000"); !errors.Is(err, ErrAccountNotFound) {
		t.Fatalf("key for unknown account: %v", err)
	}
	list, err := e.svc.AccessKeys(ctx, a.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("AccessKeys: %+v, %v", list, err)
	}
	for _, k := range list {
		if k.ID != k1.ID && k.ID != k2.ID || !k.Active || k.AccountID != a.ID {
			t.Fatalf("listed key %+v", k)
		}
	}
	if _, err := e.svc.AccessKeys(ctx, "000000000000"); !errors.Is(err, ErrAccountNotFound) {
		t.Fatalf("keys of unknown account: %v", err)
	}
}

func TestLookup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	a, _ := e.svc.CreateAccount(ctx, "alice")
	k, err := e.svc.CreateAccessKey(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		before func() error
		id     string
		err    error
	}{
		{name: "active key", id: k.ID},
		{name: "cached", id: k.ID},
		{name: "unknown key", id: "AKIAAAAAAAAAAAAAAAAA", err: ErrKeyNotFound},
		{name: "deactivated while cached", before: func() error { return e.svc.SetAccessKeyActive(ctx, k.ID, false) }, id: k.ID, err: ErrKeyInactive},
		{name: "active again", before: func() error { return e.svc.SetAccessKeyActive(ctx, k.ID, true) }, id: k.ID},
		{name: "after restart", before: func() error { e.reopen(t); return nil }, id: k.ID},
	}
	for _, s := range steps {
		if s.before != nil {
			if err := s.before(); err != nil {
				t.Fatalf("%s: %v", s.name, err)
			}
		}
		secret, account, err := e.svc.Lookup(ctx, s.id)
		if !errors.Is(err, s.err) {
			t.Fatalf("%s: %v, want %v", s.name, err, s.err)
		}
		if err == nil && (secret != k.Secret || account != a.ID) {
			t.Fatalf("%s: got %s, want %s's key", s.name, account, a.ID)
		}
	}
	if err := e.svc.SetAccessKeyActive(ctx, "AKIAAAAAAAAAAAAAAAAA", false); !errors.Is(err, ErrKeyNotFound) {
		t.Fatalf("deactivate unknown: %v", err)
	}
}
