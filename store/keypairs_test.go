package store

import (
	"context"
	"errors"
	"net/netip"
	"reflect"
	"testing"
)

func newKeyPair(id, owner, name string) KeyPair {
	return KeyPair{ID: id, Owner: owner, Name: name, Type: "ed25519", Fingerprint: "fp-" + id,
		PublicKey: "ssh-ed25519 AAAA" + id, CreatedAt: t0}
}

func TestKeyPairs(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	for _, k := range []KeyPair{
		newKeyPair("key-1", "alice", "web"),
		newKeyPair("key-2", "alice", "db"),
		newKeyPair("key-3", "bob", "web"), // names are per owner
	} {
		if err := s.InsertKeyPair(ctx, k); err != nil {
			t.Fatalf("insert %s: %v", k.ID, err)
		}
	}
	got, err := s.KeyPair(ctx, "alice", "web")
	if want := newKeyPair("key-1", "alice", "web"); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v, %v; want %+v", got, err, want)
	}

	ids := func(ks []KeyPair) []string {
		out := []string{}
		for _, k := range ks {
			out = append(out, k.ID)
		}
		return out
	}
	lists := []struct {
		name       string
		owner      string
		names, ids []string
		want       []string
	}{
		{"all of alice's, by name", "alice", nil, nil, []string{"key-2", "key-1"}},
		{"by name", "alice", []string{"web"}, nil, []string{"key-1"}},
		{"by id", "alice", nil, []string{"key-2"}, []string{"key-2"}},
		{"names and ids both narrow", "alice", []string{"web"}, []string{"key-2"}, []string{}},
		{"another owner's id", "alice", nil, []string{"key-3"}, []string{}},
		{"an owner with none", "carol", nil, nil, []string{}},
	}
	for _, c := range lists {
		got, err := s.KeyPairs(ctx, c.owner, c.names, c.ids)
		if err != nil || !reflect.DeepEqual(ids(got), c.want) {
			t.Errorf("%s: %v, %v; want %v", c.name, ids(got), err, c.want)
		}
	}

	failures := []struct {
		name string
		err  error
		fn   func() error
	}{
		{"same owner and name", ErrDuplicate, func() error { return s.InsertKeyPair(ctx, newKeyPair("key-4", "alice", "web")) }},
		{"unknown name", ErrNotFound, func() error { _, err := s.KeyPair(ctx, "alice", "nope"); return err }},
		{"another owner's name", ErrNotFound, func() error { _, err := s.KeyPair(ctx, "carol", "web"); return err }},
		{"delete another owner's by name", ErrNotFound, func() error { return s.DeleteKeyPair(ctx, "carol", "web") }},
		{"delete another owner's by id", ErrNotFound, func() error { return s.DeleteKeyPairByID(ctx, "alice", "key-3") }},
	}
	for _, c := range failures {
		if err := c.fn(); !errors.Is(err, c.err) {
			t.Errorf("%s: %v, want %v", c.name, err, c.err)
		}
	}
	// A clash of ids is not a duplicate name, which callers report as such.
	if err := s.InsertKeyPair(ctx, newKeyPair("key-1", "alice", "other")); err == nil || errors.Is(err, ErrDuplicate) {
		t.Fatalf("id clash: %v", err)
	}

	if err := s.DeleteKeyPair(ctx, "alice", "web"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteKeyPairByID(ctx, "alice", "key-2"); err != nil {
		t.Fatal(err)
	}
	if left, _ := s.KeyPairs(ctx, "alice", nil, nil); len(left) != 0 {
		t.Fatalf("alice still has %v", ids(left))
	}
	if _, err := s.KeyPair(ctx, "bob", "web"); err != nil {
		t.Fatalf("bob's key went with alice's: %v", err)
	}
	if err := s.DeleteKeyPair(ctx, "alice", "web"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second delete: %v", err)
	}
}

func TestInstanceKeepsItsKeyName(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	seedImage(t, s, "ami-1")
	ins := newInstances(2, "ami-1")
	ins[0].KeyName = "web"
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: ins}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"web", ""} {
		got, err := s.Instance(ctx, ins[i].ID)
		if err != nil || got.KeyName != want {
			t.Errorf("instance %d: key name %q, %v; want %q", i, got.KeyName, err, want)
		}
	}
}
