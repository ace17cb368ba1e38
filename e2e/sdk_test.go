package e2e

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"kumo/internal/e2e"
)

// TestGoSDKAgainstALiveCloud drives a running kumod with aws-sdk-go-v2, as
// a Go program written for EC2 would: its waiters (InstanceRunning,
// InstanceStopped, InstanceTerminated), its paginator and its error codes,
// over real guests.
func TestGoSDKAgainstALiveCloud(t *testing.T) {
	c := e2e.Start(t, "--warm-types=t2.nano")
	c.WaitTemplates(1, 3*time.Minute)
	client := ec2.New(ec2.Options{
		Region: "local", BaseEndpoint: aws.String("http://" + c.Addr), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: e2e.AdminKeyID, SecretAccessKey: e2e.AdminSecret}, nil
		}),
	})
	ctx := context.Background()
	images, err := client.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"kumo"},
		Filters: []ec2types.Filter{{Name: aws.String("name"), Values: []string{"kumo-tiny"}}}})
	if err != nil || len(images.Images) != 1 {
		t.Fatalf("the default image: %+v, %v", images, err)
	}
	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: images.Images[0].ImageId,
		InstanceType: ec2types.InstanceTypeT2Nano, MinCount: aws.Int32(2), MaxCount: aws.Int32(2)})
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{aws.ToString(run.Instances[0].InstanceId), aws.ToString(run.Instances[1].InstanceId)}
	fast := func(min, max *time.Duration) { *min, *max = time.Second, 2*time.Second }
	which := &ec2.DescribeInstancesInput{InstanceIds: ids}
	if err := ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) }).
		Wait(ctx, which, 3*time.Minute); err != nil {
		t.Fatal(err)
	}
	ctxHTTP, cancel := context.WithTimeout(ctx, 90*time.Second)
	defer cancel()
	for _, in := range run.Instances {
		if err := e2e.WaitHTTP(ctxHTTP, aws.ToString(in.PrivateIpAddress), "/", aws.ToString(in.InstanceId)); err != nil {
			t.Fatal(err)
		}
	}

	pages := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	listed := 0
	for pages.HasMorePages() {
		page, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page.Reservations {
			listed += len(r.Instances)
		}
	}
	if listed != 2 {
		t.Fatalf("the paginator listed %d instances", listed)
	}

	if _, err := client.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	if err := ec2.NewInstanceStoppedWaiter(client, func(o *ec2.InstanceStoppedWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) }).
		Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids[:1]}, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
	var ae smithy.APIError
	if _, err := client.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids[:1]}); !errors.As(err, &ae) || ae.ErrorCode() != "IncorrectInstanceState" {
		t.Fatalf("rebooting a stopped instance: %v", err)
	}
	if _, err := client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids}); err != nil {
		t.Fatal(err)
	}
	if err := ec2.NewInstanceTerminatedWaiter(client, func(o *ec2.InstanceTerminatedWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) }).
		Wait(ctx, which, 2*time.Minute); err != nil {
		t.Fatal(err)
	}
}
