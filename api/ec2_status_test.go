package api

import (
	"context"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

func TestEC2ImagesStatusAndConsole(t *testing.T) {
	client, _, imageID := newEC2(t)
	ctx := context.Background()

	imgs, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"kumo"}})
	if err != nil || len(imgs.Images) != 1 || aws.ToString(imgs.Images[0].ImageId) != imageID ||
		aws.ToString(imgs.Images[0].Name) != "tiny" || !aws.ToBool(imgs.Images[0].Public) || imgs.Images[0].State != ec2types.ImageStateAvailable {
		t.Fatalf("images: %+v %v", imgs, err)
	}
	if self, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}); err != nil || len(self.Images) != 0 {
		t.Fatalf("own images: %+v %v", self, err)
	}
	named, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"ti*"}}}})
	if err != nil || len(named.Images) != 1 {
		t.Fatalf("by name: %+v %v", named, err)
	}
	if _, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{"ami-0123456789abcdef0"}}); apiCode(err) != "InvalidAMIID.NotFound" {
		t.Fatalf("unknown image: %v", err)
	}

	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(2), MaxCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	a, b := aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)
	running0 := ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err := running0.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{a, b}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	ok := ec2.NewInstanceStatusOkWaiter(client, func(o *ec2.InstanceStatusOkWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err := ok.Wait(ctx, &ec2.DescribeInstanceStatusInput{InstanceIds: []string{a, b}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := client.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: []string{b}, Force: aws.Bool(true)}); err != nil {
		t.Fatal(err)
	}
	running, err := client.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{})
	if err != nil || len(running.InstanceStatuses) != 1 || aws.ToString(running.InstanceStatuses[0].InstanceId) != a {
		t.Fatalf("running only: %+v %v", running, err)
	}
	every, err := client.DescribeInstanceStatus(ctx, &ec2.DescribeInstanceStatusInput{IncludeAllInstances: aws.Bool(true)})
	if err != nil || len(every.InstanceStatuses) != 2 {
		t.Fatalf("all: %+v %v", every, err)
	}
	for _, st := range every.InstanceStatuses {
		if aws.ToString(st.InstanceId) == b && st.InstanceStatus.Status != ec2types.SummaryStatusNotApplicable {
			t.Fatalf("stopped instance status %+v", st.InstanceStatus)
		}
	}

	out, err := client.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String(a)})
	if err != nil || aws.ToString(out.InstanceId) != a {
		t.Fatalf("console output: %+v %v", out, err)
	}
	if _, err := client.GetConsoleOutput(ctx, &ec2.GetConsoleOutputInput{InstanceId: aws.String("i-0123456789abcdef0")}); apiCode(err) != "InvalidInstanceID.NotFound" {
		t.Fatalf("console of an unknown instance: %v", err)
	}
}
