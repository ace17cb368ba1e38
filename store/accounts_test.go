package store

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"
)

func newAccount(id, name string, admin bool) Account {
	return Account{ID: id, Name: name, Admin: admin, CreatedAt: t0}
}

func newKey(id, account string, n time.Duration) AccessKey {
	return AccessKey{ID: id, AccountID: account, SecretCiphertext: []byte{0, 1, 2, byte(n)}, Status: KeyActive, CreatedAt: t0.Add(n)}
}

func TestAccountsRoundTrip(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	want := newAccount("111111111111", "alice", false)
	if err := s.CreateAccount(ctx, want); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateAccount(ctx, newAccount("222222222222", "bob", true)); err != nil {
		t.Fatal(err)
	}
	got, err := s.Account(ctx, want.ID)
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v, %v; want %+v", got, err, want)
	}
	all, err := s.Accounts(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "alice" || !all[1].Admin {
		t.Fatalf("list %+v, %v", all, err)
	}
	for _, tc := range []struct {
		name string
		err  error
		fn   func() error
	}{
		{"same name", ErrDuplicate, func() error { return s.CreateAccount(ctx, newAccount("333333333333", "alice", false)) }},
		{"name differing in case", ErrDuplicate, func() error { return s.CreateAccount(ctx, newAccount("333333333333", "ALICE", false)) }},
		{"unknown account", ErrNotFound, func() error { _, err := s.Account(ctx, "999999999999"); return err }},
	} {
		if err := tc.fn(); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	// A clash of ids is not a duplicate name, which callers report as such.
	if err := s.CreateAccount(ctx, newAccount(want.ID, "carol", false)); err == nil || errors.Is(err, ErrDuplicate) {
		t.Fatalf("id clash: %v", err)
	}
}

func TestCreateFirstAccountOnlyOnce(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	created, err := s.CreateFirstAccount(ctx, newAccount("111111111111", "admin", true), newKey("AKIAFIRST", "111111111111", 0))
	if err != nil || !created {
		t.Fatalf("first: %v, %v", created, err)
	}
	created, err = s.CreateFirstAccount(ctx, newAccount("222222222222", "admin2", true), newKey("AKIASECOND", "222222222222", 0))
	if err != nil || created {
		t.Fatalf("second: %v, %v", created, err)
	}
	if all, _ := s.Accounts(ctx); len(all) != 1 {
		t.Fatalf("accounts %+v", all)
	}
	if _, err := s.AccessKey(ctx, "AKIASECOND"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second key stored: %v", err)
	}
}

func TestAccessKeys(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	if _, err := s.FirstAccessKey(ctx); !errors.Is(err, ErrNotFound) {
		t.Fatalf("first key of none: %v", err)
	}
	for _, a := range []Account{newAccount("111111111111", "a", false), newAccount("222222222222", "b", false)} {
		if err := s.CreateAccount(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	for _, k := range []AccessKey{newKey("AKIA2", "111111111111", 2), newKey("AKIA1", "111111111111", 1), newKey("AKIA3", "222222222222", 0)} {
		if err := s.InsertAccessKey(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name string
		err  error
		fn   func() error
	}{
		{"key of unknown account", ErrNotFound, func() error { return s.InsertAccessKey(ctx, newKey("AKIA9", "999999999999", 0)) }},
		{"duplicate key id", ErrDuplicate, func() error { return s.InsertAccessKey(ctx, newKey("AKIA1", "222222222222", 0)) }},
		{"unknown key", ErrNotFound, func() error { _, err := s.AccessKey(ctx, "AKIA9"); return err }},
		{"status of unknown key", ErrNotFound, func() error { return s.SetAccessKeyStatus(ctx, "AKIA9", KeyInactive) }},
	} {
		if err := tc.fn(); !errors.Is(err, tc.err) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
		}
	}
	if err := s.SetAccessKeyStatus(ctx, "AKIA1", "revoked"); err == nil {
		t.Fatal("a status outside active/inactive was stored")
	}
	got, err := s.AccessKey(ctx, "AKIA2")
	if err != nil || !reflect.DeepEqual(got, newKey("AKIA2", "111111111111", 2)) {
		t.Fatalf("read back %+v, %v", got, err)
	}
	list, err := s.AccessKeys(ctx, "111111111111")
	if err != nil || len(list) != 2 || list[0].ID != "AKIA1" || list[1].ID != "AKIA2" {
		t.Fatalf("keys of account: %+v, %v", list, err)
	}
	first, err := s.FirstAccessKey(ctx)
	if err != nil || first.ID != "AKIA3" || !bytes.Equal(first.SecretCiphertext, []byte{0, 1, 2, 0}) {
		t.Fatalf("first key %+v, %v", first, err)
	}
	if err := s.SetAccessKeyStatus(ctx, "AKIA1", KeyInactive); err != nil {
		t.Fatal(err)
	}
	if k, _ := s.AccessKey(ctx, "AKIA1"); k.Status != KeyInactive {
		t.Fatalf("status %q", k.Status)
	}
}

// TestMigration3KeepsData opens a database made by migrations 1 and 2.
func TestMigration3KeepsData(t *testing.T) {
	s := openMigratedFrom(t, 2,
		`INSERT INTO load_balancers (id, name, bind_addr, algorithm, health_protocol, health_interval_ms, health_timeout_ms,
			healthy_threshold, unhealthy_threshold, deregistration_delay_ms, idle_timeout_ms, connect_timeout_ms, created_at)
			VALUES ('lb-1', 'web', '127.0.0.1', 'round_robin', 'TCP', 1, 1, 1, 1, 1, 1, 1, '')`)
	if _, err := s.LoadBalancer(context.Background(), "lb-1"); err != nil {
		t.Fatalf("load balancer lost in migration: %v", err)
	}
	if err := s.CreateAccount(context.Background(), newAccount("111111111111", "a", false)); err != nil {
		t.Fatal(err)
	}
}
