package instances

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"kumo/internal/errs"
	"kumo/store"
	"kumo/tags"
)

func TestLaunchWithTagsAndNames(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	tooMany := make([]tags.Tag, tags.MaxPerResource)
	for i := range tooMany {
		tooMany[i] = tags.Tag{Key: fmt.Sprintf("k%d", i)}
	}
	for _, tc := range []struct {
		name     string
		reqName  string
		tags     []tags.Tag
		wantName string
		wantTags []string // key=value, by key
		err      error
	}{
		{"name alone", "web", nil, "web", []string{"Name=web"}, nil},
		{"Name tag", "", []tags.Tag{{Key: "env", Value: "prod"}, {Key: "Name", Value: "db"}}, "db", []string{"Name=db", "env=prod"}, nil},
		{"name and the same Name tag", "db", []tags.Tag{{Key: "Name", Value: "db"}}, "db", []string{"Name=db"}, nil},
		{"tags without a name", "", []tags.Tag{{Key: "env", Value: ""}}, "", []string{"env="}, nil},
		{"name and another Name tag", "web", []tags.Tag{{Key: "Name", Value: "db"}}, "", nil, errs.InvalidParameter},
		{"reserved key", "", []tags.Tag{{Key: "aws:x", Value: "y"}}, "", nil, errs.InvalidParameter},
		{"50 tags and a name", "web", tooMany, "", nil, tags.ErrLimitExceeded},
	} {
		out, err := e.svc.Run(ctx, RunRequest{Owner: "alice", Image: e.imageID, Type: "t2.nano", MinCount: 2, MaxCount: 2,
			Name: tc.reqName, Tags: tc.tags})
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: %v, want %v", tc.name, err, tc.err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		for _, in := range out {
			row, _ := e.store.Instance(ctx, in.ID)
			list, _ := e.store.Tags(ctx, "alice", store.TagFilter{ResourceIDs: []string{in.ID}})
			var got []string
			for _, tg := range list {
				got = append(got, tg.Key+"="+tg.Value)
			}
			if row.Name != tc.wantName || !slices.Equal(got, tc.wantTags) {
				t.Errorf("%s: %s named %q with tags %v, want %q and %v", tc.name, in.ID, row.Name, got, tc.wantName, tc.wantTags)
			}
		}
	}
	all, _ := e.svc.List(ctx, nil)
	if len(all) != 8 {
		t.Fatalf("%d instances, want the 8 of the accepted launches", len(all))
	}
}

func TestOwnAndSetName(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	out, err := e.svc.Run(ctx, RunRequest{Owner: "alice", Image: e.imageID, Type: "t2.nano", MinCount: 1, MaxCount: 1})
	if err != nil {
		t.Fatal(err)
	}
	id := out[0].ID
	if err := e.svc.Own(ctx, "alice", []string{id}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		owner string
		ids   []string
		err   error
	}{
		{"another owner", "bob", []string{id}, ErrNotFound},
		{"one of them another's", "bob", []string{"i-00000000000000000", id}, ErrNotFound},
		{"malformed", "alice", []string{"i-nope"}, ErrMalformed},
	} {
		if err := e.svc.Own(ctx, tc.owner, tc.ids); !errors.Is(err, tc.err) {
			t.Errorf("Own, %s: %v, want %v", tc.name, err, tc.err)
		}
	}
	if err := e.svc.SetName(ctx, "bob", id, "mine"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("SetName by another owner: %v", err)
	}
	if err := e.svc.SetName(ctx, "alice", id, "api"); err != nil {
		t.Fatal(err)
	}
	if got, _ := e.svc.List(ctx, []string{id}); got[0].Name != "api" {
		t.Fatalf("name %q after SetName", got[0].Name)
	}
}
