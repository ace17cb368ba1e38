package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/netip"
	"path/filepath"
	"testing"
	"time"
)

func openTest(t *testing.T) *Store {
	t.Helper()
	s, err := Open(context.Background(), filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

var t0 = time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)

func seedImage(t *testing.T, s *Store, id string) {
	t.Helper()
	if err := s.InsertImage(context.Background(), Image{ID: id, Name: "img-" + id, State: "available", CreatedAt: t0}); err != nil {
		t.Fatal(err)
	}
}

func newInstances(n int, image string) []Instance {
	out := make([]Instance, n)
	for i := range out {
		out[i] = Instance{ID: fmt.Sprintf("i-%017x", i+1), ImageID: image, Type: "t2.micro", State: "pending",
			Host: "local", MAC: fmt.Sprintf("52:54:00:00:00:%02x", i+1), LaunchedAt: t0, UpdatedAt: t0}
	}
	return out
}

func TestCreateInstancesAllocatesDistinctAddresses(t *testing.T) {
	s := openTest(t)
	seedImage(t, s, "ami-1")
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/29"), Reserved: []netip.Addr{netip.MustParseAddr("10.77.0.1")}}
	got, err := s.CreateInstances(context.Background(), Launch{Pool: pool, Instances: newInstances(5, "ami-1")})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"10.77.0.2", "10.77.0.3", "10.77.0.4", "10.77.0.5", "10.77.0.6"}
	for i, in := range got {
		if in.PrivateIP != want[i] {
			t.Errorf("instance %d: ip %s, want %s", i, in.PrivateIP, want[i])
		}
	}
	// .7 is the broadcast address of a /29: the pool is now full.
	more := newInstances(6, "ami-1")[5:]
	if _, err := s.CreateInstances(context.Background(), Launch{Pool: pool, Instances: more}); !errors.Is(err, ErrExhausted) {
		t.Fatalf("err = %v, want ErrExhausted", err)
	}
	all, _ := s.Instances(context.Background(), InstanceFilter{})
	if len(all) != 5 {
		t.Fatalf("a failed launch left rows behind: %d instances", len(all))
	}
}

func TestTerminateReleasesAddress(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	seedImage(t, s, "ami-1")
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24"), Reserved: []netip.Addr{netip.MustParseAddr("10.77.0.1")}}
	got, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: newInstances(1, "ami-1")})
	if err != nil {
		t.Fatal(err)
	}
	id := got[0].ID
	if err := s.SetInstanceState(ctx, id, "running", "terminated", "", t0); !errors.Is(err, ErrStale) {
		t.Fatalf("CAS from the wrong state: err = %v, want ErrStale", err)
	}
	if err := s.SetInstanceState(ctx, id, "pending", "terminated", "user", t0); err != nil {
		t.Fatal(err)
	}
	in, _ := s.Instance(ctx, id)
	if in.PrivateIP != "" || !in.TerminatedAt.Equal(t0) {
		t.Fatalf("after terminate: ip %q terminated_at %v", in.PrivateIP, in.TerminatedAt)
	}
	next := newInstances(2, "ami-1")[1:]
	again, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: next})
	if err != nil {
		t.Fatal(err)
	}
	if again[0].PrivateIP != "10.77.0.2" {
		t.Fatalf("released address not reused: got %s", again[0].PrivateIP)
	}
	if n, err := s.PurgeTerminated(ctx, t0.Add(time.Second)); err != nil || n != 1 {
		t.Fatalf("purge = %d, %v; want 1", n, err)
	}
	if _, err := s.Instance(ctx, id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("purged instance still readable: %v", err)
	}
}

func TestDeregisterRefusedWhileInUse(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	seedImage(t, s, "ami-1")
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	got, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: newInstances(1, "ami-1")})
	if err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeregisterImage(ctx, "ami-1"); err != nil || n != 1 {
		t.Fatalf("deregister in use = %d, %v; want 1 user", n, err)
	}
	if err := s.SetInstanceState(ctx, got[0].ID, "pending", "terminated", "", t0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.DeregisterImage(ctx, "ami-1"); err != nil || n != 0 {
		t.Fatalf("deregister = %d, %v", n, err)
	}
	if _, err := s.DeregisterImage(ctx, "ami-1"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("second deregister: %v, want ErrNotFound", err)
	}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: newInstances(2, "ami-1")[1:]}); !errors.Is(err, ErrNotFound) {
		t.Fatalf("launch from deregistered image: %v, want ErrNotFound", err)
	}
}

func TestImageNameUniqueAmongAvailable(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	seedImage(t, s, "ami-1")
	err := s.InsertImage(ctx, Image{ID: "ami-2", Name: "img-ami-1", State: "available", CreatedAt: t0})
	if !errors.Is(err, ErrDuplicate) {
		t.Fatalf("err = %v, want ErrDuplicate", err)
	}
}

func TestReopenKeepsSchema(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kumo.db")
	for i := 0; i < 2; i++ {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		s.Close()
	}
}

func TestCreateInstancesRespectsLimit(t *testing.T) {
	s := openTest(t)
	seedImage(t, s, "ami-1")
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	if _, err := s.CreateInstances(context.Background(), Launch{Pool: pool, MaxLive: 3, Instances: newInstances(2, "ami-1")}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.CreateInstances(context.Background(), Launch{Pool: pool, MaxLive: 3, Instances: newInstances(4, "ami-1")[2:]}); !errors.Is(err, ErrLimit) {
		t.Fatalf("err = %v, want ErrLimit", err)
	}
	if n, err := s.LiveInstances(context.Background()); err != nil || n != 2 {
		t.Fatalf("LiveInstances = %d, %v; want 2", n, err)
	}
}

func TestControlPlaneIDIsStable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kumo.db")
	var ids []string
	for i := 0; i < 2; i++ {
		s, err := Open(context.Background(), path)
		if err != nil {
			t.Fatal(err)
		}
		id, err := s.ControlPlaneID(context.Background())
		if err != nil || len(id) != 16 {
			t.Fatalf("id %q, %v", id, err)
		}
		ids = append(ids, id)
		s.Close()
	}
	if ids[0] != ids[1] {
		t.Fatalf("id changed across opens: %v", ids)
	}
	other := openTest(t)
	if id, _ := other.ControlPlaneID(context.Background()); id == ids[0] {
		t.Fatal("two databases share an id")
	}
}

// openMigratedFrom opens a database that migrations 1 to version made and
// the statements then filled, as a kumod of that version left it.
func openMigratedFrom(t *testing.T, version int, stmts ...string) *Store {
	t.Helper()
	path := filepath.Join(t.TempDir(), "kumo.db")
	db, err := sql.Open("sqlite3", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	all := []string{`CREATE TABLE schema_version (version INTEGER NOT NULL)`}
	for v := 1; v <= version; v++ {
		all = append(all, migrations[v], fmt.Sprintf(`INSERT INTO schema_version (version) VALUES (%d)`, v))
	}
	for _, stmt := range append(all, stmts...) {
		if _, err := db.Exec(stmt); err != nil {
			t.Fatal(err)
		}
	}
	db.Close()
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestAddressesComeFromEachInstancesHost(t *testing.T) {
	s := openTest(t)
	seedImage(t, s, "ami-1")
	pools := map[string]Pool{
		"h1": {Network: "kumo", Prefix: netip.MustParsePrefix("10.77.1.0/24"), Reserved: []netip.Addr{netip.MustParseAddr("10.77.1.1")}},
		"h2": {Network: "kumo", Prefix: netip.MustParsePrefix("10.77.2.0/24"), Reserved: []netip.Addr{netip.MustParseAddr("10.77.2.1")}},
	}
	ins := newInstances(3, "ami-1")
	ins[0].Host, ins[1].Host, ins[2].Host = "h1", "h2", "h1"
	got, err := s.CreateInstances(context.Background(), Launch{Pools: pools, Instances: ins})
	if err != nil {
		t.Fatal(err)
	}
	for i, want := range []string{"10.77.1.2", "10.77.2.2", "10.77.1.3"} {
		if got[i].PrivateIP != want {
			t.Errorf("instance %d on %s got %s, want %s", i, got[i].Host, got[i].PrivateIP, want)
		}
	}
}
