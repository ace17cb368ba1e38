package api

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestEC2PlacementGroups(t *testing.T) {
	client, _, imageID := newEC2(t)
	ctx := context.Background()
	created, err := client.CreatePlacementGroup(ctx, &ec2.CreatePlacementGroupInput{
		GroupName: aws.String("hdfs"), Strategy: ec2types.PlacementStrategyPartition, PartitionCount: aws.Int32(3)})
	if err != nil {
		t.Fatal(err)
	}
	g := created.PlacementGroup
	if aws.ToString(g.GroupName) != "hdfs" || g.Strategy != ec2types.PlacementStrategyPartition || aws.ToInt32(g.PartitionCount) != 3 ||
		g.State != ec2types.PlacementGroupStateAvailable || aws.ToString(g.GroupId) == "" {
		t.Fatalf("created %+v", g)
	}
	if _, err := client.CreatePlacementGroup(ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("db"), Strategy: ec2types.PlacementStrategyCluster}); err != nil {
		t.Fatal(err)
	}

	refusals := map[string]struct {
		call func() error
		code string
	}{
		"duplicate name": {func() error {
			_, err := client.CreatePlacementGroup(ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("hdfs"), Strategy: ec2types.PlacementStrategySpread})
			return err
		}, "InvalidPlacementGroup.Duplicate"},
		"no strategy": {func() error {
			_, err := client.CreatePlacementGroup(ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("x")})
			return err
		}, "MissingParameter"},
		"partitions of a cluster": {func() error {
			_, err := client.CreatePlacementGroup(ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("x"), Strategy: ec2types.PlacementStrategyCluster, PartitionCount: aws.Int32(2)})
			return err
		}, "InvalidParameterValue"},
		"8 partitions": {func() error {
			_, err := client.CreatePlacementGroup(ctx, &ec2.CreatePlacementGroupInput{GroupName: aws.String("x"), Strategy: ec2types.PlacementStrategyPartition, PartitionCount: aws.Int32(8)})
			return err
		}, "InvalidParameterValue"},
		"describe an unknown group": {func() error {
			_, err := client.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{GroupNames: []string{"nope"}})
			return err
		}, "InvalidPlacementGroup.Unknown"},
		"delete an unknown group": {func() error {
			_, err := client.DeletePlacementGroup(ctx, &ec2.DeletePlacementGroupInput{GroupName: aws.String("nope")})
			return err
		}, "InvalidPlacementGroup.Unknown"},
		"launch into an unknown group": {func() error {
			_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				Placement: &ec2types.Placement{GroupName: aws.String("nope")}})
			return err
		}, "InvalidPlacementGroup.Unknown"},
		"launch into partition 4 of 3": {func() error {
			_, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				Placement: &ec2types.Placement{GroupName: aws.String("hdfs"), PartitionNumber: aws.Int32(4)}})
			return err
		}, "InvalidParameterValue"},
	}
	for name, r := range refusals {
		t.Run(name, func(t *testing.T) {
			if err := r.call(); apiCode(err) != r.code {
				t.Fatalf("got %v, want %s", err, r.code)
			}
		})
	}

	byFilter, err := client.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{
		Filters: []ec2types.Filter{{Name: aws.String("strategy"), Values: []string{"cluster"}}}})
	if err != nil || len(byFilter.PlacementGroups) != 1 || aws.ToString(byFilter.PlacementGroups[0].GroupName) != "db" {
		t.Fatalf("strategy=cluster: %+v %v", byFilter, err)
	}
	byID, err := client.DescribePlacementGroups(ctx, &ec2.DescribePlacementGroupsInput{GroupIds: []string{aws.ToString(g.GroupId)}})
	if err != nil || len(byID.PlacementGroups) != 1 || aws.ToString(byID.PlacementGroups[0].GroupName) != "hdfs" {
		t.Fatalf("by id: %+v %v", byID, err)
	}

	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
		Placement: &ec2types.Placement{GroupName: aws.String("hdfs"), PartitionNumber: aws.Int32(2)}})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(run.Instances[0].InstanceId)
	described, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("placement-group-name"), Values: []string{"hdfs"}},
		{Name: aws.String("placement-partition-number"), Values: []string{"2"}},
	}})
	if err != nil || len(described.Reservations) != 1 {
		t.Fatalf("instances of partition 2 of hdfs: %+v %v", described, err)
	}
	p := described.Reservations[0].Instances[0].Placement
	if aws.ToString(p.GroupName) != "hdfs" || aws.ToInt32(p.PartitionNumber) != 2 || aws.ToString(p.GroupId) != aws.ToString(g.GroupId) {
		t.Fatalf("placement %+v", p)
	}
	if _, err := client.DeletePlacementGroup(ctx, &ec2.DeletePlacementGroupInput{GroupName: aws.String("hdfs")}); apiCode(err) != "InvalidPlacementGroup.InUse" {
		t.Fatalf("delete a group in use: %v", err)
	}
	if _, err := client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: []string{id}}); err != nil {
		t.Fatal(err)
	}
	waiter := ec2.NewInstanceTerminatedWaiter(client, func(o *ec2.InstanceTerminatedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := waiter.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{id}}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := client.DeletePlacementGroup(ctx, &ec2.DeletePlacementGroupInput{GroupName: aws.String("hdfs")}); err != nil {
		t.Fatalf("delete a group whose instance is terminated: %v", err)
	}
}
