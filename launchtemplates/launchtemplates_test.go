package launchtemplates_test

import (
	"context"
	"errors"
	"testing"

	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/internal/testkit"
	"kumo/launchtemplates"
	"kumo/tags"
)

func TestVersions(t *testing.T) {
	st, _ := testkit.Store(t)
	svc := launchtemplates.New(st, clock.Real{})
	ctx := context.Background()
	web := launchtemplates.Ref{Name: "web"}
	first, err := svc.Create(ctx, "alice", "web", "first", launchtemplates.Data{ImageID: "ami-1", InstanceType: "t2.nano",
		Tags: []tags.Tag{{Key: "role", Value: "web"}}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Number != 1 || !first.Default {
		t.Fatalf("first version %+v", first)
	}
	// From version 1, changing only the type: the image and tags stay.
	second, err := svc.CreateVersion(ctx, "alice", web, "1", "bigger", launchtemplates.Data{InstanceType: "t2.small"})
	if err != nil {
		t.Fatal(err)
	}
	if second.Number != 2 || second.Default || second.Data.ImageID != "ami-1" || second.Data.InstanceType != "t2.small" || len(second.Data.Tags) != 1 {
		t.Fatalf("second version %+v", second)
	}
	// Without a source, a version holds what it is given.
	third, err := svc.CreateVersion(ctx, "alice", launchtemplates.Ref{ID: first.TemplateID}, "", "", launchtemplates.Data{ImageID: "ami-2"})
	if err != nil || third.Number != 3 || third.Data.InstanceType != "" {
		t.Fatalf("third version %+v %v", third, err)
	}
	for version, want := range map[string]int{"": 1, launchtemplates.Default: 1, launchtemplates.Latest: 3, "2": 2} {
		v, err := svc.Resolve(ctx, "alice", web, version)
		if err != nil || v.Number != want {
			t.Errorf("Resolve(%q) = version %d, %v; want %d", version, v.Number, err, want)
		}
	}
	if _, err := svc.SetDefault(ctx, "alice", web, "2"); err != nil {
		t.Fatal(err)
	}
	if v, _ := svc.Resolve(ctx, "alice", web, ""); v.Number != 2 || !v.Default {
		t.Errorf("after SetDefault(2), the default is %+v", v)
	}
	list, err := svc.Versions(ctx, "alice", web, nil, 2, 0)
	if err != nil || len(list) != 2 || list[0].Number != 2 || list[1].Number != 3 {
		t.Fatalf("versions from 2: %+v %v", list, err)
	}
	if _, err := svc.Delete(ctx, "alice", web); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Resolve(ctx, "alice", web, ""); !errors.Is(err, launchtemplates.ErrNameNotFound) {
		t.Fatalf("a deleted template resolves: %v", err)
	}
}

func TestRefusals(t *testing.T) {
	st, _ := testkit.Store(t)
	svc := launchtemplates.New(st, clock.Real{})
	ctx := context.Background()
	v, err := svc.Create(ctx, "alice", "web", "", launchtemplates.Data{ImageID: "ami-1"})
	if err != nil {
		t.Fatal(err)
	}
	cases := map[string]struct {
		call func() error
		want error
	}{
		"duplicate name": {func() error { _, err := svc.Create(ctx, "alice", "web", "", launchtemplates.Data{}); return err }, launchtemplates.ErrDuplicate},
		"short name":     {func() error { _, err := svc.Create(ctx, "alice", "w", "", launchtemplates.Data{}); return err }, launchtemplates.ErrMalformedName},
		"name with a space": {func() error {
			_, err := svc.Create(ctx, "alice", "my web", "", launchtemplates.Data{})
			return err
		}, launchtemplates.ErrMalformedName},
		"another account's, by name": {func() error {
			_, err := svc.Resolve(ctx, "bob", launchtemplates.Ref{Name: "web"}, "")
			return err
		}, launchtemplates.ErrNameNotFound},
		"another account's, by id": {func() error {
			_, err := svc.Resolve(ctx, "bob", launchtemplates.Ref{ID: v.TemplateID}, "")
			return err
		}, launchtemplates.ErrIDNotFound},
		"malformed id": {func() error {
			_, err := svc.Resolve(ctx, "alice", launchtemplates.Ref{ID: "web"}, "")
			return err
		}, launchtemplates.ErrIDNotFound},
		"version 9": {func() error {
			_, err := svc.Resolve(ctx, "alice", launchtemplates.Ref{Name: "web"}, "9")
			return err
		}, launchtemplates.ErrVersionNotFound},
		"version zero": {func() error {
			_, err := svc.Resolve(ctx, "alice", launchtemplates.Ref{Name: "web"}, "0")
			return err
		}, launchtemplates.ErrVersionNotFound},
		"id and name": {func() error {
			_, err := svc.Resolve(ctx, "alice", launchtemplates.Ref{ID: v.TemplateID, Name: "web"}, "")
			return err
		}, errs.InvalidParameter},
		"bad tag": {func() error {
			_, err := svc.CreateVersion(ctx, "alice", launchtemplates.Ref{Name: "web"}, "", "", launchtemplates.Data{Tags: []tags.Tag{{Key: "aws:x"}}})
			return err
		}, errs.InvalidParameter},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			if err := tc.call(); !errors.Is(err, tc.want) {
				t.Fatalf("got %v, want %v", err, tc.want)
			}
		})
	}
}
