package store

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

func newHost(n int, name string) Host {
	return Host{ID: fmt.Sprintf("h-%017x", n), Name: name, URI: "test:///default", Zone: "local-a", Netns: "kumo",
		State: "enabled", Health: "up", ReservedVCPUs: 1, ReservedMemoryMiB: 512, CPURatio: 16, MemoryRatio: 1,
		HostReport: HostReport{CPUs: 8, MemoryMiB: 16384, Arch: "x86_64"}, CreatedAt: t0, UpdatedAt: t0}
}

func claim(instance, host string, vcpus int, mem int64) Claim {
	return Claim{InstanceID: instance, HostID: host, VCPUs: vcpus, MemoryMiB: mem, CreatedAt: t0}
}

// claimAll is a plan that claims what it is given, whatever the fleet.
func claimAll(claims ...Claim) func([]HostLoad) ([]Claim, error) {
	return func([]HostLoad) ([]Claim, error) { return claims, nil }
}

func TestHosts(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	b, a := newHost(1, "b"), newHost(2, "a")
	for _, h := range []Host{b, a} {
		if err := s.InsertHost(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.InsertHost(ctx, newHost(3, "a")); !errors.Is(err, ErrDuplicate) {
		t.Fatalf("a second host named a: %v, want ErrDuplicate", err)
	}
	got, err := s.Host(ctx, b.ID)
	if want := (HostLoad{Host: b}); err != nil || !reflect.DeepEqual(got, want) {
		t.Fatalf("read back %+v, %v; want %+v", got, err, want)
	}
	if got, err := s.HostByName(ctx, "a"); err != nil || got.ID != a.ID {
		t.Fatalf("by name: %+v, %v", got, err)
	}
	all, err := s.Hosts(ctx)
	if err != nil || len(all) != 2 || all[0].Name != "a" || all[1].Name != "b" {
		t.Fatalf("hosts by name: %+v, %v", all, err)
	}

	later := t0.Add(time.Minute)
	if err := s.SetHostState(ctx, a.ID, "draining", later); err != nil {
		t.Fatal(err)
	}
	report := HostReport{CPUs: 4, MemoryMiB: 8192, Arch: "aarch64"}
	if err := s.SetHostHealth(ctx, a.ID, "down", "connection reset", report, later); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Host(ctx, a.ID)
	if got.State != "draining" || got.Health != "down" || got.HealthReason != "connection reset" ||
		got.HostReport != report || !got.UpdatedAt.Equal(later) || !got.CreatedAt.Equal(t0) {
		t.Fatalf("after updates: %+v", got)
	}
	if err := s.ResetHostsHealth(ctx, "unknown", later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	for _, h := range []Host{a, b} {
		if got, _ := s.Host(ctx, h.ID); got.Health != "unknown" || !got.UpdatedAt.Equal(later.Add(time.Minute)) {
			t.Fatalf("%s after reset: %+v", h.Name, got)
		}
	}
	if err := s.SetHostState(ctx, a.ID, "sideways", later); err == nil {
		t.Fatal("a state outside the schema was recorded")
	}

	missing := "h-00000000000000099"
	for name, err := range map[string]error{
		"Host":          func() error { _, err := s.Host(ctx, missing); return err }(),
		"HostByName":    func() error { _, err := s.HostByName(ctx, "zz"); return err }(),
		"SetHostState":  s.SetHostState(ctx, missing, "enabled", later),
		"SetHostHealth": s.SetHostHealth(ctx, missing, "up", "", report, later),
		"DeleteHost":    s.DeleteHost(ctx, missing),
	} {
		if !errors.Is(err, ErrNotFound) {
			t.Errorf("%s of a missing host: %v, want ErrNotFound", name, err)
		}
	}
}

func TestClaimCapacity(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	h1, h2 := newHost(1, "one"), newHost(2, "two")
	for _, h := range []Host{h1, h2} {
		if err := s.InsertHost(ctx, h); err != nil {
			t.Fatal(err)
		}
	}
	first := []Claim{claim("i-1", h1.ID, 2, 1024), claim("i-2", h1.ID, 1, 512), claim("i-3", h2.ID, 4, 4096)}
	first[2].Group, first[2].Partition = "hdfs", 2
	if got, err := s.ClaimCapacity(ctx, ClaimQuery{}, claimAll(first...)); err != nil || !reflect.DeepEqual(got, first) {
		t.Fatalf("claim: %+v, %v", got, err)
	}

	// The plan sees the claims made so far, and the group's.
	var seen []HostLoad
	look := func(fleet []HostLoad) ([]Claim, error) { seen = fleet; return nil, nil }
	if _, err := s.ClaimCapacity(ctx, ClaimQuery{Group: "hdfs"}, look); err != nil {
		t.Fatal(err)
	}
	if len(seen) != 2 || seen[0].Used != (Usage{3, 1536, 2}) || seen[1].Used != (Usage{4, 4096, 1}) ||
		seen[0].Group != (GroupUsage{}) || seen[1].Group != (GroupUsage{1, 2}) {
		t.Fatalf("fleet seen by the plan: %+v", seen)
	}
	if _, err := s.ClaimCapacity(ctx, ClaimQuery{HostIDs: []string{h2.ID}}, look); err != nil || len(seen) != 1 || seen[0].ID != h2.ID {
		t.Fatalf("fleet narrowed to %s: %+v, %v", h2.ID, seen, err)
	}
	if got, err := s.Host(ctx, h1.ID); err != nil || got.Used != (Usage{3, 1536, 2}) {
		t.Fatalf("usage of one host: %+v, %v", got.Used, err)
	}

	failures := []struct {
		name  string
		query ClaimQuery
		plan  func([]HostLoad) ([]Claim, error)
		want  error
	}{
		{"the plan fails", ClaimQuery{}, func([]HostLoad) ([]Claim, error) { return nil, ErrLimit }, ErrLimit},
		{"an instance already holds a claim", ClaimQuery{}, claimAll(claim("i-4", h2.ID, 1, 1), claim("i-1", h2.ID, 1, 1)), ErrDuplicate},
		{"the same instance twice", ClaimQuery{}, claimAll(claim("i-5", h2.ID, 1, 1), claim("i-5", h1.ID, 1, 1)), ErrDuplicate},
		{"an instance named in the query holds a claim", ClaimQuery{Instances: []string{"i-8", "i-3"}}, func([]HostLoad) ([]Claim, error) {
			t.Error("plan ran for an instance that holds a claim")
			return nil, nil
		}, ErrDuplicate},
		{"an unknown host", ClaimQuery{}, claimAll(claim("i-6", h2.ID, 1, 1), claim("i-7", "h-00000000000000099", 1, 1)), ErrNotFound},
	}
	for _, f := range failures {
		if _, err := s.ClaimCapacity(ctx, f.query, f.plan); !errors.Is(err, f.want) {
			t.Errorf("%s: %v, want %v", f.name, err, f.want)
		}
	}
	if all, err := s.Claims(ctx, ""); err != nil || len(all) != 3 {
		t.Fatalf("failed claims left rows behind: %+v, %v", all, err)
	}
	if on2, err := s.Claims(ctx, h2.ID); err != nil || !reflect.DeepEqual(on2, first[2:]) {
		t.Fatalf("claims on %s: %+v, %v", h2.ID, on2, err)
	}
}

func TestReleaseClaimsAndDeleteHost(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	h := newHost(1, "one")
	if err := s.InsertHost(ctx, h); err != nil {
		t.Fatal(err)
	}
	// More than one batch of deletes.
	var claims []Claim
	var ids []string
	for i := range 1200 {
		c := claim(fmt.Sprintf("i-%d", i), h.ID, 1, 1)
		claims = append(claims, c)
		ids = append(ids, c.InstanceID)
	}
	if _, err := s.ClaimCapacity(ctx, ClaimQuery{}, claimAll(claims...)); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteHost(ctx, h.ID); !errors.Is(err, ErrHostInUse) {
		t.Fatalf("delete a host with claims: %v, want ErrHostInUse", err)
	}
	if n, err := s.ReleaseClaims(ctx, append(ids[:1100:1100], "i-unknown")...); err != nil || n != 1100 {
		t.Fatalf("release: %d, %v; want 1100", n, err)
	}
	if n, err := s.ReleaseClaims(ctx, ids...); err != nil || n != 100 {
		t.Fatalf("release again: %d, %v; want the 100 left", n, err)
	}
	if err := s.DeleteHost(ctx, h.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Host(ctx, h.ID); !errors.Is(err, ErrNotFound) {
		t.Fatalf("deleted host: %v", err)
	}
}

func TestAdoptClaimsKeepsExisting(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	h := newHost(1, "one")
	if err := s.InsertHost(ctx, h); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ClaimCapacity(ctx, ClaimQuery{}, claimAll(claim("i-1", h.ID, 2, 2048))); err != nil {
		t.Fatal(err)
	}
	n, err := s.AdoptClaims(ctx, []Claim{claim("i-1", h.ID, 1, 1), claim("i-2", h.ID, 1, 1)})
	if err != nil || n != 1 {
		t.Fatalf("adopt: %d, %v; want 1", n, err)
	}
	if got, _ := s.Host(ctx, h.ID); got.Used != (Usage{3, 2049, 2}) {
		t.Fatalf("usage after adopting: %+v", got.Used)
	}
}

// TestHostUsageReadsIndexOnly checks the plan of the usage query: summing
// 50 000 claims from the covering index, not the table, is what keeps a
// placement's transaction short.
func TestHostUsageReadsIndexOnly(t *testing.T) {
	s := openTest(t)
	for _, where := range []string{"", "IN (?)"} {
		args := []any{}
		if where != "" {
			args = []any{"h-1", "h-1"}
		}
		rows, err := s.db.Query(`EXPLAIN QUERY PLAN `+hostLoadQuery(where), args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, "USING COVERING INDEX capacity_claims_host") || strings.Contains(text, "TEMP B-TREE FOR GROUP BY") {
			t.Errorf("usage query (where %q) does not sum from the index:\n%s", where, text)
		}
	}
}

// TestClaimCapacityIsAtomicAcrossHandles races two database handles, as
// two processes would, each claiming while the plan sees room; the total
// never passes the room.
func TestClaimCapacityIsAtomicAcrossHandles(t *testing.T) {
	path := filepath.Join(t.TempDir(), "kumo.db")
	ctx := context.Background()
	var handles []*Store
	for range 2 {
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		handles = append(handles, s)
	}
	h := newHost(1, "one")
	if err := handles[0].InsertHost(ctx, h); err != nil {
		t.Fatal(err)
	}
	const room, tries = 10, 40
	errFull := errors.New("full")
	var wg sync.WaitGroup
	var mu sync.Mutex
	won := 0
	for i := range tries {
		wg.Go(func() {
			_, err := handles[i%2].ClaimCapacity(ctx, ClaimQuery{}, func(fleet []HostLoad) ([]Claim, error) {
				if fleet[0].Used.Claims >= room {
					return nil, errFull
				}
				return []Claim{claim(fmt.Sprintf("i-%d", i), h.ID, 1, 1)}, nil
			})
			if err != nil && !errors.Is(err, errFull) {
				t.Error(err)
			}
			if err == nil {
				mu.Lock()
				won++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if got, _ := handles[1].Host(ctx, h.ID); won != room || got.Used.Claims != room {
		t.Fatalf("%d claims succeeded, %d recorded; want %d", won, got.Used.Claims, room)
	}
}
