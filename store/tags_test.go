package store

import (
	"context"
	"errors"
	"net/netip"
	"slices"
	"testing"
)

// tagSet renders tags as "resource:key=value" for comparison.
func tagSet(tags []Tag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, t.ResourceID+":"+t.Key+"="+t.Value)
	}
	return out
}

func seedTags(t *testing.T, s *Store) {
	t.Helper()
	ctx := context.Background()
	if err := s.SetTags(ctx, "alice", []Tag{
		{"i-1", "Name", "web"}, {"i-1", "env", "prod"}, {"i-2", "env", "dev"}, {"ami-1", "env", "prod"},
	}, 50); err != nil {
		t.Fatal(err)
	}
	if err := s.SetTags(ctx, "bob", []Tag{{"i-9", "env", "prod"}}, 50); err != nil {
		t.Fatal(err)
	}
}

func TestTagsListing(t *testing.T) {
	s := openTest(t)
	seedTags(t, s)
	tests := []struct {
		name  string
		owner string
		f     TagFilter
		want  []string
	}{
		{"all of an owner", "alice", TagFilter{}, []string{"ami-1:env=prod", "i-1:Name=web", "i-1:env=prod", "i-2:env=dev"}},
		{"another owner", "bob", TagFilter{}, []string{"i-9:env=prod"}},
		{"no tags", "carol", TagFilter{}, []string{}},
		{"by resource", "alice", TagFilter{ResourceIDs: []string{"i-2", "i-9"}}, []string{"i-2:env=dev"}},
		{"by prefix", "alice", TagFilter{IDPrefixes: []string{"ami-"}}, []string{"ami-1:env=prod"}},
		{"by key", "alice", TagFilter{Keys: []string{"Name"}}, []string{"i-1:Name=web"}},
		{"keys are case-sensitive", "alice", TagFilter{Keys: []string{"name"}}, []string{}},
		{"by value", "alice", TagFilter{Values: []string{"prod"}, IDPrefixes: []string{"i-"}}, []string{"i-1:env=prod"}},
		{"a prefix is no pattern", "alice", TagFilter{IDPrefixes: []string{"i_"}}, []string{}},
	}
	for _, tt := range tests {
		got, err := s.Tags(context.Background(), tt.owner, tt.f)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(tagSet(got), tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tagSet(got), tt.want)
		}
	}
}

func TestSetTagsReplacesAndKeepsTheLimit(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	seedTags(t, s)
	if err := s.SetTags(ctx, "alice", []Tag{{"i-1", "Name", "db"}, {"i-2", "team", "x"}}, 3); err != nil {
		t.Fatal(err)
	}
	// i-1 holds Name and env: a third and fourth key pass the limit of 3,
	// and the whole call, i-2's tag included, changes nothing.
	err := s.SetTags(ctx, "alice", []Tag{{"i-2", "owner", "y"}, {"i-1", "a", "1"}, {"i-1", "b", "2"}}, 3)
	if !errors.Is(err, ErrLimit) {
		t.Fatalf("over the limit: %v", err)
	}
	got, _ := s.Tags(ctx, "alice", TagFilter{IDPrefixes: []string{"i-"}})
	want := []string{"i-1:Name=db", "i-1:env=prod", "i-2:env=dev", "i-2:team=x"}
	if !slices.Equal(tagSet(got), want) {
		t.Fatalf("after: %v, want %v", tagSet(got), want)
	}
	if err := s.SetTags(ctx, "bob", []Tag{{"i-1", "Name", "mine"}}, 50); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Tags(ctx, "alice", TagFilter{ResourceIDs: []string{"i-1"}, Keys: []string{"Name"}}); !slices.Equal(tagSet(got), want[:1]) {
		t.Fatalf("another owner replaced a value: %v", tagSet(got))
	}
}

func TestDeleteTags(t *testing.T) {
	tests := []struct {
		name    string
		owner   string
		ids     []string
		matches []TagMatch
		want    []string // alice's tags afterwards
	}{
		{"by key, any value", "alice", []string{"i-1", "i-2"}, []TagMatch{{Key: "env", AnyValue: true}},
			[]string{"ami-1:env=prod", "i-1:Name=web"}},
		{"by key and value", "alice", []string{"i-1", "i-2"}, []TagMatch{{Key: "env", Value: "dev"}},
			[]string{"ami-1:env=prod", "i-1:Name=web", "i-1:env=prod"}},
		{"value that does not match", "alice", []string{"i-1"}, []TagMatch{{Key: "Name", Value: "db"}},
			[]string{"ami-1:env=prod", "i-1:Name=web", "i-1:env=prod", "i-2:env=dev"}},
		{"empty value matches only empty", "alice", []string{"i-1"}, []TagMatch{{Key: "Name"}},
			[]string{"ami-1:env=prod", "i-1:Name=web", "i-1:env=prod", "i-2:env=dev"}},
		{"every tag", "alice", []string{"i-1"}, nil,
			[]string{"ami-1:env=prod", "i-2:env=dev"}},
		{"another owner's resource", "bob", []string{"i-1"}, nil,
			[]string{"ami-1:env=prod", "i-1:Name=web", "i-1:env=prod", "i-2:env=dev"}},
	}
	for _, tt := range tests {
		s := openTest(t)
		seedTags(t, s)
		ctx := context.Background()
		if err := s.DeleteTags(ctx, tt.owner, tt.ids, tt.matches); err != nil {
			t.Fatal(err)
		}
		got, _ := s.Tags(ctx, "alice", TagFilter{})
		if !slices.Equal(tagSet(got), tt.want) {
			t.Errorf("%s: %v, want %v", tt.name, tagSet(got), tt.want)
		}
	}
}

func TestInstancesComeAndGoWithTheirTags(t *testing.T) {
	s := openTest(t)
	ctx := context.Background()
	seedImage(t, s, "ami-1")
	pool := Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	ins := newInstances(2, "ami-1")
	for i := range ins {
		ins[i].Owner = "alice"
	}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: ins[:1], Tags: []Tag{{"i-0000000000000009", "Name", "x"}}}); err == nil {
		t.Fatal("a tag of no new instance was accepted")
	}
	if got, _ := s.Instances(ctx, InstanceFilter{}); len(got) != 0 {
		t.Fatalf("a refused launch left %d instances", len(got))
	}
	if _, err := s.CreateInstances(ctx, Launch{Pool: pool, Instances: ins, Tags: []Tag{{ins[0].ID, "Name", "web"}, {ins[1].ID, "Name", "db"}}}); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Tags(ctx, "alice", TagFilter{Keys: []string{"Name"}})
	if want := []string{ins[0].ID + ":Name=web", ins[1].ID + ":Name=db"}; !slices.Equal(tagSet(got), want) {
		t.Fatalf("tags at launch: %v, want %v", tagSet(got), want)
	}
	if err := s.SetInstanceName(ctx, ins[0].ID, "api"); err != nil {
		t.Fatal(err)
	}
	if in, _ := s.Instance(ctx, ins[0].ID); in.Name != "api" {
		t.Fatalf("name %q after SetInstanceName", in.Name)
	}
	if err := s.SetInstanceName(ctx, "i-0000000000000009", "x"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("rename of no instance: %v", err)
	}

	if err := s.SetInstanceState(ctx, ins[0].ID, "pending", "terminated", "", t0); err != nil {
		t.Fatal(err)
	}
	if n, err := s.PurgeTerminated(ctx, t0.Add(1)); err != nil || n != 1 {
		t.Fatalf("purge: %d %v", n, err)
	}
	got, _ = s.Tags(ctx, "alice", TagFilter{})
	if want := []string{ins[1].ID + ":Name=db"}; !slices.Equal(tagSet(got), want) {
		t.Fatalf("tags after the purge: %v, want %v", tagSet(got), want)
	}
}
