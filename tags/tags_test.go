package tags_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"kumo/internal/errs"
	"kumo/store"
	"kumo/tags"
)

var errNoInstance = errors.New("no such instance")

// instances stands in for the instances service: ids owned by accounts,
// and the names it keeps.
type instances struct {
	owners map[string]string
	names  map[string]string
}

func (f *instances) Own(_ context.Context, owner string, ids []string) error {
	for _, id := range ids {
		if f.owners[id] != owner {
			return fmt.Errorf("%s: %w", id, errNoInstance)
		}
	}
	return nil
}

func (f *instances) SetName(_ context.Context, owner, id, name string) error {
	f.names[id] = name
	return nil
}

const (
	i1, i2, i3 = "i-00000000000000001", "i-00000000000000002", "i-00000000000000003"
)

func newService(t *testing.T) (*tags.Service, *instances) {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	in := &instances{owners: map[string]string{i1: "alice", i2: "alice", i3: "bob"}, names: map[string]string{}}
	return tags.New(st, map[string]tags.Resources{tags.Instance: in}), in
}

// render shows owner's tags as "resource:key=value".
func render(t *testing.T, s *tags.Service, owner string) []string {
	t.Helper()
	list, err := s.Describe(context.Background(), owner, tags.Query{})
	if err != nil {
		t.Fatal(err)
	}
	out := []string{}
	for _, r := range list {
		if r.ResourceType != tags.Instance {
			t.Errorf("%s has type %q", r.ResourceID, r.ResourceType)
		}
		out = append(out, r.ResourceID+":"+r.Key+"="+r.Value)
	}
	return out
}

func many(n int) []tags.Tag {
	out := make([]tags.Tag, n)
	for i := range out {
		out[i] = tags.Tag{Key: fmt.Sprintf("k%02d", i), Value: "v"}
	}
	return out
}

func TestCreateRefusals(t *testing.T) {
	tests := []struct {
		name string
		ids  []string
		tags []tags.Tag
		want error
	}{
		{"51 tags", []string{i1}, many(51), tags.ErrLimitExceeded},
		{"50 tags", []string{i1}, many(50), nil},
		{"129-character key", []string{i1}, []tags.Tag{{Key: strings.Repeat("k", 129)}}, errs.InvalidParameter},
		{"128-character key", []string{i1}, []tags.Tag{{Key: strings.Repeat("é", 128)}}, nil},
		{"257-character value", []string{i1}, []tags.Tag{{Key: "k", Value: strings.Repeat("v", 257)}}, errs.InvalidParameter},
		{"256-character value", []string{i1}, []tags.Tag{{Key: "k", Value: strings.Repeat("v", 256)}}, nil},
		{"aws: prefix", []string{i1}, []tags.Tag{{Key: "aws:cloudformation:stack", Value: "x"}}, errs.InvalidParameter},
		{"AWS: prefix", []string{i1}, []tags.Tag{{Key: "AWS:x"}}, errs.InvalidParameter},
		{"aws without colon", []string{i1}, []tags.Tag{{Key: "awsome"}}, nil},
		{"empty key", []string{i1}, []tags.Tag{{Key: ""}}, errs.InvalidParameter},
		{"duplicate key", []string{i1}, []tags.Tag{{Key: "a"}, {Key: "a", Value: "b"}}, errs.InvalidParameter},
		{"no tags", []string{i1}, nil, errs.MissingParameter},
		{"no resources", nil, []tags.Tag{{Key: "a"}}, errs.MissingParameter},
		{"1001 resources", slices.Repeat([]string{i1}, 1001), []tags.Tag{{Key: "a"}}, errs.InvalidParameter},
		{"untaggable type", []string{i1, "vol-00000000000000001"}, []tags.Tag{{Key: "a"}}, tags.ErrInvalidID},
		{"not an id", []string{"web"}, []tags.Tag{{Key: "a"}}, tags.ErrInvalidID},
		{"another owner's instance", []string{i1, i3}, []tags.Tag{{Key: "a"}}, errNoInstance},
	}
	for _, tt := range tests {
		s, _ := newService(t)
		err := s.Create(context.Background(), "alice", tt.ids, tt.tags)
		if tt.want == nil && err != nil || tt.want != nil && !errors.Is(err, tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, err, tt.want)
		}
		if tt.want != nil {
			if got := render(t, s, "alice"); len(got) != 0 {
				t.Errorf("%s: refused, yet tags were set: %v", tt.name, got)
			}
		}
		if check := s.CheckCreate(context.Background(), "alice", tt.ids, tt.tags); !errors.Is(check, tt.want) && (tt.want != nil || check != nil) {
			t.Errorf("%s: CheckCreate says %v, Create %v", tt.name, check, err)
		}
	}
}

func TestLimitCountsTagsAlreadyThere(t *testing.T) {
	s, _ := newService(t)
	ctx := context.Background()
	if err := s.Create(ctx, "alice", []string{i1}, many(49)); err != nil {
		t.Fatal(err)
	}
	// Replacing values adds no tags.
	if err := s.Create(ctx, "alice", []string{i1, i2}, many(49)); err != nil {
		t.Fatal(err)
	}
	err := s.Create(ctx, "alice", []string{i2, i1}, []tags.Tag{{Key: "x"}, {Key: "y"}})
	if !errors.Is(err, tags.ErrLimitExceeded) {
		t.Fatalf("51st tag: %v", err)
	}
	if got := render(t, s, "alice"); len(got) != 98 {
		t.Fatalf("a refused call changed tags: %d now", len(got))
	}
}

func TestCreateDescribeDelete(t *testing.T) {
	s, in := newService(t)
	ctx := context.Background()
	if err := s.Create(ctx, "alice", []string{i1, i2, i1}, []tags.Tag{{Key: "Name", Value: "web"}, {Key: "env", Value: "prod"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "bob", []string{i3}, []tags.Tag{{Key: "env", Value: "prod"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Create(ctx, "alice", []string{i2}, []tags.Tag{{Key: "Name", Value: "db"}, {Key: "empty"}}); err != nil {
		t.Fatal(err)
	}
	want := []string{i1 + ":Name=web", i1 + ":env=prod", i2 + ":Name=db", i2 + ":empty=", i2 + ":env=prod"}
	if got := render(t, s, "alice"); !slices.Equal(got, want) {
		t.Fatalf("alice's tags: %v, want %v", got, want)
	}
	if got := render(t, s, "bob"); !slices.Equal(got, []string{i3 + ":env=prod"}) {
		t.Fatalf("bob's tags: %v", got)
	}
	if in.names[i1] != "web" || in.names[i2] != "db" {
		t.Fatalf("names %v", in.names)
	}
	of, err := s.Of(ctx, "alice", []string{i2, i3})
	if err != nil || len(of) != 1 || len(of[i2]) != 3 || of[i2][0] != (tags.Tag{Key: "Name", Value: "db"}) {
		t.Fatalf("Of: %v %v", of, err)
	}
	all, err := s.OfType(ctx, "alice", tags.Instance)
	if err != nil || len(all) != 2 || len(all[i1]) != 2 || len(all[i2]) != 3 || all[i3] != nil {
		t.Fatalf("OfType: %v %v", all, err)
	}
	if _, err := s.OfType(ctx, "alice", "volume"); err == nil {
		t.Fatal("OfType of a type without tags: no error")
	}

	queries := []struct {
		name string
		q    tags.Query
		n    int
	}{
		{"by key", tags.Query{Keys: []string{"env"}}, 2},
		{"by value", tags.Query{Values: []string{"db", "web"}}, 2},
		{"by resource", tags.Query{ResourceIDs: []string{i2}}, 3},
		{"another's resource", tags.Query{ResourceIDs: []string{i3}}, 0},
		{"by type", tags.Query{ResourceTypes: []string{"instance"}}, 5},
		{"a type without tags", tags.Query{ResourceTypes: []string{"image"}}, 0},
	}
	for _, q := range queries {
		list, err := s.Describe(ctx, "alice", q.q)
		if err != nil || len(list) != q.n {
			t.Errorf("%s: %d tags, want %d (%v)", q.name, len(list), q.n, err)
		}
	}

	deletes := []struct {
		name    string
		owner   string
		ids     []string
		filters []tags.TagFilter
		want    []string
		err     error
	}{
		{"value that does not match", "alice", []string{i1}, []tags.TagFilter{{Key: "env", Value: "dev", HasValue: true}},
			want, nil},
		{"empty value matches only empty", "alice", []string{i1, i2}, []tags.TagFilter{{Key: "empty", HasValue: true}, {Key: "env", HasValue: true}},
			[]string{i1 + ":Name=web", i1 + ":env=prod", i2 + ":Name=db", i2 + ":env=prod"}, nil},
		{"by key and value", "alice", []string{i1, i2}, []tags.TagFilter{{Key: "Name", Value: "web", HasValue: true}},
			[]string{i1 + ":env=prod", i2 + ":Name=db", i2 + ":env=prod"}, nil},
		{"aws: key", "alice", []string{i1}, []tags.TagFilter{{Key: "aws:x"}}, nil, errs.InvalidParameter},
		{"another owner's", "bob", []string{i1}, nil, nil, errNoInstance},
		{"mixed owners", "alice", []string{i2, i3}, nil, nil, errNoInstance},
		{"by key", "alice", []string{i1, i2}, []tags.TagFilter{{Key: "env"}},
			[]string{i2 + ":Name=db"}, nil},
		{"every tag", "alice", []string{i2}, nil, []string{}, nil},
	}
	for _, d := range deletes {
		err := s.Delete(ctx, d.owner, d.ids, d.filters)
		if d.err != nil {
			if !errors.Is(err, d.err) {
				t.Fatalf("%s: %v, want %v", d.name, err, d.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", d.name, err)
		}
		if got := render(t, s, "alice"); !slices.Equal(got, d.want) {
			t.Fatalf("%s: %v, want %v", d.name, got, d.want)
		}
	}
	if in.names[i1] != "" || in.names[i2] != "" {
		t.Fatalf("names after their tags went: %v", in.names)
	}
	if got := render(t, s, "bob"); len(got) != 1 {
		t.Fatalf("bob's tags after alice's deletes: %v", got)
	}
}
