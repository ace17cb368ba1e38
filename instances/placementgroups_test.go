package instances

import (
	"context"
	"errors"
	"testing"

	"kumo/internal/errs"
)

func TestPlacementGroupRequests(t *testing.T) {
	cases := map[string]struct {
		req  PlacementGroupRequest
		want error
	}{
		"cluster":                {PlacementGroupRequest{Name: "db", Strategy: GroupCluster}, nil},
		"partition, default K":   {PlacementGroupRequest{Name: "hdfs", Strategy: GroupPartition}, nil},
		"partition of 7":         {PlacementGroupRequest{Name: "hdfs", Strategy: GroupPartition, Partitions: 7}, nil},
		"no name":                {PlacementGroupRequest{Strategy: GroupSpread}, errs.MissingParameter},
		"no strategy":            {PlacementGroupRequest{Name: "x"}, errs.MissingParameter},
		"unknown strategy":       {PlacementGroupRequest{Name: "x", Strategy: "rack"}, errs.InvalidParameter},
		"8 partitions":           {PlacementGroupRequest{Name: "x", Strategy: GroupPartition, Partitions: 8}, errs.InvalidParameter},
		"partitions of a spread": {PlacementGroupRequest{Name: "x", Strategy: GroupSpread, Partitions: 2}, errs.InvalidParameter},
		"control character":      {PlacementGroupRequest{Name: "a\nb", Strategy: GroupSpread}, errs.InvalidParameter},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := CheckPlacementGroup(&tc.req)
			if !errors.Is(err, tc.want) || (tc.want == nil) != (err == nil) {
				t.Fatalf("CheckPlacementGroup(%+v) = %v, want %v", tc.req, err, tc.want)
			}
		})
	}
}

func TestLaunchIntoAPlacementGroup(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	alice := e.svc.For("alice")
	g, err := alice.CreatePlacementGroup(ctx, PlacementGroupRequest{Name: "hdfs", Strategy: GroupPartition, Partitions: 3})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := alice.CreatePlacementGroup(ctx, PlacementGroupRequest{Name: "hdfs", Strategy: GroupSpread}); !errors.Is(err, ErrGroupDuplicate) {
		t.Fatalf("a second group of the name: %v, want ErrGroupDuplicate", err)
	}
	// Another account's namesake is its own.
	if _, err := e.svc.For("bob").CreatePlacementGroup(ctx, PlacementGroupRequest{Name: "hdfs", Strategy: GroupSpread}); err != nil {
		t.Fatalf("bob's group of the same name: %v", err)
	}
	run := func(owner, group string, partition int) ([]Instance, error) {
		return e.svc.For(owner).Run(ctx, RunRequest{Image: e.imageID, Type: "t2.nano", MinCount: 1, MaxCount: 1,
			PlacementGroup: group, Partition: partition})
	}
	if _, err := run("carol", "hdfs", 0); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("another account's group: %v, want ErrGroupNotFound", err)
	}
	if _, err := run("alice", "hdfs", 4); !errors.Is(err, errs.InvalidParameter) {
		t.Fatalf("partition 4 of 3: %v, want InvalidParameter", err)
	}
	if _, err := run("alice", "", 2); !errors.Is(err, errs.InvalidParameter) {
		t.Fatalf("a partition without a group: %v, want InvalidParameter", err)
	}
	ins, err := run("alice", "hdfs", 2)
	if err != nil {
		t.Fatal(err)
	}
	in := ins[0]
	if in.PlacementGroup != g.ID || in.Partition != 2 {
		t.Fatalf("launched into partition 2 of %s: group %q, partition %d", g.ID, in.PlacementGroup, in.Partition)
	}
	e.waitState(in.ID, Running)
	if err := alice.DeletePlacementGroup(ctx, "hdfs"); !errors.Is(err, ErrGroupInUse) {
		t.Fatalf("deleting a group with a running instance: %v, want ErrGroupInUse", err)
	}
	if _, err := e.svc.Terminate(ctx, []string{in.ID}); err != nil {
		t.Fatal(err)
	}
	e.waitState(in.ID, Terminated)
	if err := alice.DeletePlacementGroup(ctx, "hdfs"); err != nil {
		t.Fatalf("deleting a group whose instances are terminated: %v", err)
	}
	if err := alice.DeletePlacementGroup(ctx, "hdfs"); !errors.Is(err, ErrGroupNotFound) {
		t.Fatalf("deleting it again: %v, want ErrGroupNotFound", err)
	}
	left, err := alice.PlacementGroups(ctx)
	if err != nil || len(left) != 0 {
		t.Fatalf("alice's groups after the delete: %v %v", left, err)
	}
}
