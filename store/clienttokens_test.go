package store

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"
)

func TestClientTokenRecordsOneLaunch(t *testing.T) {
	s := openTest(t)
	seedImage(t, s, "ami-1")
	ctx := context.Background()
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	first := newInstances(2, "ami-1")
	for i := range first {
		first[i].Owner, first[i].ReservationID, first[i].LaunchIndex = "alice", "r-1", i
	}
	tok := ClientToken{Owner: "alice", Token: "retry-me", RequestHash: "h1", ReservationID: "r-1", CreatedAt: t0}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: first, Token: tok}); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClientTokenOf(ctx, "alice", "retry-me")
	if err != nil || got.RequestHash != "h1" || got.ReservationID != "r-1" || !got.CreatedAt.Equal(t0) {
		t.Fatalf("ClientTokenOf = %+v, %v", got, err)
	}
	if _, err := s.ClientTokenOf(ctx, "bob", "retry-me"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("another owner's token: %v, want ErrNotFound", err)
	}

	// The same token again creates nothing, not even its instances.
	again := newInstances(4, "ami-1")[2:]
	for i := range again {
		again[i].Owner, again[i].ReservationID = "alice", "r-2"
	}
	tok.ReservationID = "r-2"
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: again, Token: tok}); !errors.Is(err, ErrTokenUsed) {
		t.Fatalf("second launch with the token: %v, want ErrTokenUsed", err)
	}
	if n, _ := s.LiveInstancesOf(ctx, "alice"); n != 2 {
		t.Fatalf("alice has %d live instances, want 2", n)
	}
	// Another owner's token space is its own.
	tok.Owner = "bob"
	for i := range again {
		again[i].Owner = "bob"
	}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: again, Token: tok}); err != nil {
		t.Fatalf("bob's launch with the same token: %v", err)
	}

	listed, err := s.Instances(ctx, InstanceFilter{Owner: "alice", Reservation: "r-1"})
	if err != nil || len(listed) != 2 || listed[0].ReservationID != "r-1" || listed[0].LaunchIndex+listed[1].LaunchIndex != 1 {
		t.Fatalf("reservation r-1: %+v, %v", listed, err)
	}

	// Purging the launch's last instance forgets the token.
	for _, in := range first {
		if err := s.SetInstanceState(ctx, in.ID, "pending", "terminated", "", t0.Add(time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.PurgeTerminated(ctx, t0.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClientTokenOf(ctx, "alice", "retry-me"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("token of a purged launch: %v, want ErrNotFound", err)
	}
	if _, err := s.ClientTokenOf(ctx, "bob", "retry-me"); err != nil {
		t.Fatalf("bob's token went with alice's launch: %v", err)
	}
}

func TestCreateInstancesRespectsOwnerLimit(t *testing.T) {
	s := openTest(t)
	seedImage(t, s, "ami-1")
	ctx := context.Background()
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	ins := newInstances(5, "ami-1")
	for i := range ins {
		ins[i].Owner = []string{"alice", "alice", "bob", "alice", "alice"}[i]
	}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, MaxOwned: 2, Instances: ins[:2]}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, MaxOwned: 2, Instances: ins[2:3]}); err != nil {
		t.Fatalf("bob under his own limit: %v", err)
	}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, MaxOwned: 3, Instances: ins[3:]}); !errors.Is(err, ErrOwnerLimit) {
		t.Fatalf("alice over her limit: %v, want ErrOwnerLimit", err)
	}
}

// TestMigration7KeepsData opens a database made by migrations 1 to 6: an
// instance becomes a reservation of its own, an image the cloud's.
func TestMigration7KeepsData(t *testing.T) {
	s := openMigratedFrom(t, 6,
		`INSERT INTO images (id, name, state, kernel, created_at) VALUES ('ami-00000000000000001', 'tiny', 'available', 'k', '')`,
		`INSERT INTO instances (id, owner, image_id, type, state, host, network, mac, launched_at, updated_at)
			VALUES ('i-0123456789abcdef0', 'alice', 'ami-00000000000000001', 't2.nano', 'running', 'local', 'kumo', 'm', '', '')`)
	in, err := s.Instance(context.Background(), "i-0123456789abcdef0")
	if err != nil || in.ReservationID != "r-0123456789abcdef0" || in.LaunchIndex != 0 {
		t.Fatalf("instance after migration: %+v, %v", in, err)
	}
	im, err := s.ImageByName(context.Background(), "alice", "tiny")
	if err != nil || im.Owner != "" {
		t.Fatalf("image after migration: %+v, %v", im, err)
	}
}

func TestAdoptOrphans(t *testing.T) {
	s := openTest(t)
	seedImage(t, s, "ami-1")
	ctx := context.Background()
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	ins := newInstances(2, "ami-1")
	ins[1].Owner = "bob"
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: ins, Tags: []Tag{{ins[0].ID, "Name", "old"}}}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.AdoptOrphans(ctx, "admin"); err != nil || n != 1 {
		t.Fatalf("adopted %d, %v; want the one without an owner", n, err)
	}
	if in, _ := s.Instance(ctx, ins[0].ID); in.Owner != "admin" {
		t.Fatalf("orphan's owner %q", in.Owner)
	}
	if in, _ := s.Instance(ctx, ins[1].ID); in.Owner != "bob" {
		t.Fatalf("bob's instance went to %q", in.Owner)
	}
	if tags, _ := s.Tags(ctx, "admin", TagFilter{}); len(tags) != 1 {
		t.Fatalf("the orphan's tags did not follow it: %v", tags)
	}
}
