package api

import (
	"context"
	"encoding/base64"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"kumo/api/sigv4"
	"kumo/instances"
)

// allowAll stands in for signature checks, which have their own tests:
// every request speaks for one account.
type allowAll struct{}

func (allowAll) Authenticate(*http.Request, []byte, string) (string, error) {
	return "123456789012", nil
}

// newEC2 starts the API and returns an EC2 client of the real SDK for it.
func newEC2(t *testing.T) (*ec2.Client, *httptest.Server, string) {
	t.Helper()
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: allowAll{}})
	client := ec2.New(ec2.Options{
		Region:       "local",
		BaseEndpoint: aws.String(srv.URL),
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIAEXAMPLE", SecretAccessKey: "secret"}, nil
		}),
		RetryMaxAttempts: 1,
	})
	return client, srv, imageID
}

func apiCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestEC2RegionsZonesAndTypes(t *testing.T) {
	client, srv, _ := newEC2(t)
	ctx := context.Background()
	regions, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(regions.Regions) != 1 || aws.ToString(regions.Regions[0].RegionName) != "local" ||
		aws.ToString(regions.Regions[0].Endpoint) != strings.TrimPrefix(srv.URL, "http://") {
		t.Fatalf("regions: %+v", regions.Regions)
	}
	if _, err := client.DescribeRegions(ctx, &ec2.DescribeRegionsInput{RegionNames: []string{"us-east-1"}}); apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("unknown region: %v", err)
	}
	zones, err := client.DescribeAvailabilityZones(ctx, &ec2.DescribeAvailabilityZonesInput{})
	if err != nil || len(zones.AvailabilityZones) != 1 || aws.ToString(zones.AvailabilityZones[0].ZoneName) != "local-a" ||
		aws.ToString(zones.AvailabilityZones[0].RegionName) != "local" {
		t.Fatalf("zones: %+v %v", zones, err)
	}

	var names []string
	pages := ec2.NewDescribeInstanceTypesPaginator(client, &ec2.DescribeInstanceTypesInput{MaxResults: aws.Int32(5)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.InstanceTypes) > 5 {
			t.Fatalf("page of %d", len(out.InstanceTypes))
		}
		for _, it := range out.InstanceTypes {
			names = append(names, string(it.InstanceType))
		}
	}
	slices.Sort(names)
	if len(names) != len(instances.Types()) || len(slices.Compact(slices.Clone(names))) != len(names) {
		t.Fatalf("paginated types %v", names)
	}
	t3, err := client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{
		Filters: []ec2types.Filter{{Name: aws.String("instance-type"), Values: []string{"t3.*"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range t3.InstanceTypes {
		if !strings.HasPrefix(string(it.InstanceType), "t3.") || aws.ToInt64(it.MemoryInfo.SizeInMiB) == 0 {
			t.Fatalf("filtered type %+v", it)
		}
	}
	if len(t3.InstanceTypes) == 0 {
		t.Fatal("no t3 types")
	}
	_, err = client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{
		Filters: []ec2types.Filter{{Name: aws.String("colour"), Values: []string{"red"}}},
	})
	if apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("unknown filter: %v", err)
	}
	if _, err := client.DescribeInstanceTypes(ctx, &ec2.DescribeInstanceTypesInput{NextToken: aws.String("forged")}); apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("forged token: %v", err)
	}
}

// TestEC2RefusesWhatEC2Refuses sends raw requests the SDK would never
// build.
func TestEC2RefusesWhatEC2Refuses(t *testing.T) {
	_, srv, _ := newEC2(t)
	cases := []struct {
		name, body, code string
		status           int
	}{
		{"unknown action", "Action=LaunchRockets&Version=2016-11-15", "InvalidAction", 400},
		{"no action", "Version=2016-11-15", "MissingAction", 400},
		{"unknown parameter", "Action=DescribeRegions&Version=2016-11-15&Colour=red", "UnknownParameter", 400},
		{"gap in a list", "Action=DescribeRegions&Version=2016-11-15&RegionName.2=local", "InvalidParameterValue", 400},
		{"bad boolean", "Action=DescribeRegions&Version=2016-11-15&AllRegions=yes", "InvalidParameterValue", 400},
		{"MaxResults out of range", "Action=DescribeInstanceTypes&Version=2016-11-15&MaxResults=500", "InvalidParameterValue", 400},
		{"dry run of a describe", "Action=DescribeRegions&Version=2016-11-15&DryRun=true", "DryRunOperation", 412},
		{"dry run with an unknown parameter", "Action=DescribeRegions&Version=2016-11-15&DryRun=true&Colour=red", "UnknownParameter", 400},
	}
	for _, c := range cases {
		resp, err := http.Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader(c.body))
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != c.status || !strings.Contains(string(body), "<Code>"+c.code+"</Code>") || !strings.Contains(string(body), "<RequestID>") {
			t.Errorf("%s: %d %s", c.name, resp.StatusCode, body)
		}
	}
	// GET with an action is the EC2 API too; without one, the console.
	resp, err := http.Get(srv.URL + "/?" + url.Values{"Action": {"DescribeRegions"}, "Version": {"2016-11-15"}}.Encode())
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), "<regionName>local</regionName>") {
		t.Fatalf("GET: %d %s", resp.StatusCode, body)
	}
}

func TestEC2WithoutAuthIsRefused(t *testing.T) {
	srv, _, _ := newTestAPI(t)
	resp, err := http.Post(srv.URL+"/", "application/x-www-form-urlencoded", strings.NewReader("Action=DescribeRegions&Version=2016-11-15"))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(string(body), "AuthFailure") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestEC2InstanceLifecycleWithTheSDK(t *testing.T) {
	client, _, imageID := newEC2(t)
	ctx := context.Background()
	fast := func(min, max *time.Duration) { *min, *max = 20*time.Millisecond, 100*time.Millisecond }

	if _, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1),
		MaxCount: aws.Int32(1), DryRun: aws.Bool(true)}); apiCode(err) != "DryRunOperation" {
		t.Fatalf("dry run: %v", err)
	}
	run, err := client.RunInstances(ctx, &ec2.RunInstancesInput{
		ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT2Nano, MinCount: aws.Int32(2), MaxCount: aws.Int32(3),
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte("#!/bin/sh\necho hi\n"))),
		TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance,
			Tags: []ec2types.Tag{{Key: aws.String("Name"), Value: aws.String("web")}}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(run.Instances) != 3 || aws.ToString(run.OwnerId) != "123456789012" || run.Instances[0].State.Name != ec2types.InstanceStateNamePending {
		t.Fatalf("run: %+v", run)
	}
	var ids []string
	for _, in := range run.Instances {
		ids = append(ids, aws.ToString(in.InstanceId))
	}
	running := ec2.NewInstanceRunningWaiter(client, func(o *ec2.InstanceRunningWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) })
	if err := running.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, time.Minute); err != nil {
		t.Fatal(err)
	}
	named, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"w*"}},
		{Name: aws.String("instance-state-name"), Values: []string{"running", "stopped"}},
	}})
	if err != nil || len(named.Reservations) != 1 || len(named.Reservations[0].Instances) != 3 || named.Reservations[0].Instances[0].Tags[0].Value == nil {
		t.Fatalf("filtered: %+v %v", named, err)
	}
	none, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("tag:Name"), Values: []string{"db"}}}})
	if err != nil || len(none.Reservations) != 0 {
		t.Fatalf("no match: %+v %v", none, err)
	}

	// Starting a running instance changes nothing and succeeds, as on EC2.
	again, err := client.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids[:1]})
	if err != nil || again.StartingInstances[0].CurrentState.Name != ec2types.InstanceStateNameRunning ||
		again.StartingInstances[0].PreviousState.Name != ec2types.InstanceStateNameRunning {
		t.Fatalf("start a running instance: %+v %v", again, err)
	}
	stop, err := client.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids[:1], Force: aws.Bool(true)})
	if err != nil || stop.StoppingInstances[0].PreviousState.Name != ec2types.InstanceStateNameRunning {
		t.Fatalf("stop: %+v %v", stop, err)
	}
	stopped := ec2.NewInstanceStoppedWaiter(client, func(o *ec2.InstanceStoppedWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) })
	if err := stopped.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids[:1]}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := client.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: ids[:1]}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: ids[1:2]}); err != nil {
		t.Fatal(err)
	}
	term, err := client.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: ids})
	if err != nil || len(term.TerminatingInstances) != 3 {
		t.Fatalf("terminate: %+v %v", term, err)
	}
	gone := ec2.NewInstanceTerminatedWaiter(client, func(o *ec2.InstanceTerminatedWaiterOptions) { fast(&o.MinDelay, &o.MaxDelay) })
	if err := gone.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: ids}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := client.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: ids[:1]}); apiCode(err) != "IncorrectInstanceState" {
		t.Fatalf("stop a terminated instance: %v", err)
	}
}

func TestEC2DescribeInstancesPagesAndErrors(t *testing.T) {
	client, _, imageID := newEC2(t)
	ctx := context.Background()
	if _, err := client.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(7), MaxCount: aws.Int32(7)}); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	pages := ec2.NewDescribeInstancesPaginator(client, &ec2.DescribeInstancesInput{MaxResults: aws.Int32(5)})
	n := 0
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				if seen[aws.ToString(in.InstanceId)] {
					t.Fatalf("%s on two pages", aws.ToString(in.InstanceId))
				}
				seen[aws.ToString(in.InstanceId)] = true
			}
		}
	}
	if len(seen) != 7 || n != 2 {
		t.Fatalf("%d instances over %d pages", len(seen), n)
	}
	cases := []struct {
		name string
		in   *ec2.DescribeInstancesInput
		code string
	}{
		{"unknown id", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}, "InvalidInstanceID.NotFound"},
		{"malformed id", &ec2.DescribeInstancesInput{InstanceIds: []string{"web"}}, "InvalidInstanceID.Malformed"},
		{"ids with MaxResults", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}, MaxResults: aws.Int32(5)}, "InvalidParameterCombination"},
		{"unknown filter", &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{{Name: aws.String("vpc-colour"), Values: []string{"x"}}}}, "InvalidParameterValue"},
	}
	for _, c := range cases {
		if _, err := client.DescribeInstances(ctx, c.in); apiCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	runCases := []struct {
		name string
		in   *ec2.RunInstancesInput
		code string
	}{
		{"unknown image", &ec2.RunInstancesInput{ImageId: aws.String("ami-0123456789abcdef0"), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}, "InvalidAMIID.NotFound"},
		{"unknown type", &ec2.RunInstancesInput{ImageId: aws.String(imageID), InstanceType: "p9.huge", MinCount: aws.Int32(1), MaxCount: aws.Int32(1)}, "InvalidParameterValue"},
		{"min above max", &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(3), MaxCount: aws.Int32(2)}, "InvalidParameterValue"},
		{"user data not base64", &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), UserData: aws.String("#!/bin/sh")}, "InvalidParameterValue"},
		{"other zone", &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1), Placement: &ec2types.Placement{AvailabilityZone: aws.String("us-east-1a")}}, "InvalidParameterValue"},
	}
	for _, c := range runCases {
		if _, err := client.RunInstances(ctx, c.in); apiCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
}

// keyIsAccount stands in for signature checks in tenant tests: the access
// key id in the Authorization header names the account, and the
// credential's scope must name the service the API expects.
type keyIsAccount struct{}

func (keyIsAccount) Authenticate(r *http.Request, _ []byte, service string) (string, error) {
	_, cred, _ := strings.Cut(r.Header.Get("Authorization"), "Credential=")
	cred, _, _ = strings.Cut(cred, ",")
	scope := strings.Split(cred, "/") // key/date/region/service/aws4_request
	if len(scope) != 5 || scope[3] != service {
		return "", &sigv4.Error{Code: sigv4.CodeSignatureDoesNotMatch, Message: "Credential should be scoped to correct service: '" + service + "'."}
	}
	return "acct-" + scope[0], nil
}

func clientFor(srv *httptest.Server, key string) *ec2.Client {
	return ec2.New(ec2.Options{Region: "local", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: "secret"}, nil
		})})
}

// TestEC2TenantsSeeOnlyTheirOwn has a second account try every instance
// action on the first one's instances: each must answer as if they did
// not exist, and change nothing.
func TestEC2TenantsSeeOnlyTheirOwn(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	alice, bob := clientFor(srv, "ALICE"), clientFor(srv, "BOB")
	ctx := context.Background()
	run := func(c *ec2.Client) []string {
		out, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(2), MaxCount: aws.Int32(2)})
		if err != nil {
			t.Fatal(err)
		}
		return []string{aws.ToString(out.Instances[0].InstanceId), aws.ToString(out.Instances[1].InstanceId)}
	}
	alices := run(alice)
	bobs := run(bob)
	count := func(c *ec2.Client) int {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, r := range out.Reservations {
			n += len(r.Instances)
		}
		return n
	}
	if count(alice) != 2 || count(bob) != 2 {
		t.Fatalf("each should see its own two: alice %d, bob %d", count(alice), count(bob))
	}
	mixed := []string{bobs[0], alices[0]}
	attempts := map[string]func() error{
		"describe": func() error {
			_, err := bob.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: alices})
			return err
		},
		"stop": func() error {
			_, err := bob.StopInstances(ctx, &ec2.StopInstancesInput{InstanceIds: mixed})
			return err
		},
		"start": func() error {
			_, err := bob.StartInstances(ctx, &ec2.StartInstancesInput{InstanceIds: mixed})
			return err
		},
		"reboot": func() error {
			_, err := bob.RebootInstances(ctx, &ec2.RebootInstancesInput{InstanceIds: mixed})
			return err
		},
		"terminate": func() error {
			_, err := bob.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: mixed})
			return err
		},
		"terminate dry run": func() error {
			_, err := bob.TerminateInstances(ctx, &ec2.TerminateInstancesInput{InstanceIds: alices[1:], DryRun: aws.Bool(true)})
			return err
		},
	}
	for name, try := range attempts {
		if err := try(); apiCode(err) != "InvalidInstanceID.NotFound" {
			t.Errorf("bob's %s of alice's instance: %v, want InvalidInstanceID.NotFound", name, err)
		}
	}
	out, err := alice.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: alices})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range out.Reservations {
		if st := r.Instances[0].State.Name; st == ec2types.InstanceStateNameStopping || st == ec2types.InstanceStateNameShuttingDown ||
			st == ec2types.InstanceStateNameTerminated || aws.ToString(r.OwnerId) != "acct-ALICE" {
			t.Fatalf("alice's instance after bob's attempts: %s owner %s", st, aws.ToString(r.OwnerId))
		}
	}
	// Nothing of bob's own moved either: the mixed requests were refused whole.
	own, err := bob.DescribeInstances(ctx, &ec2.DescribeInstancesInput{InstanceIds: bobs[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if st := own.Reservations[0].Instances[0].State.Name; st != ec2types.InstanceStateNamePending && st != ec2types.InstanceStateNameRunning {
		t.Fatalf("bob's own instance is %s after refused requests", st)
	}
}

func TestEC2RunInstancesClientToken(t *testing.T) {
	client, _, imageID := newEC2(t)
	ctx := context.Background()
	in := &ec2.RunInstancesInput{ImageId: aws.String(imageID), InstanceType: ec2types.InstanceTypeT2Nano,
		MinCount: aws.Int32(2), MaxCount: aws.Int32(2), ClientToken: aws.String("web-rollout-7")}
	first, err := client.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := client.RunInstances(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(again.ReservationId) != aws.ToString(first.ReservationId) || !strings.HasPrefix(aws.ToString(first.ReservationId), "r-") ||
		aws.ToString(again.Instances[1].InstanceId) != aws.ToString(first.Instances[1].InstanceId) || aws.ToInt32(first.Instances[1].AmiLaunchIndex) != 1 {
		t.Fatalf("a retry must answer the first launch: %+v then %+v", first.Instances, again.Instances)
	}
	in.InstanceType = ec2types.InstanceTypeT2Micro
	if _, err := client.RunInstances(ctx, in); apiCode(err) != "IdempotentParameterMismatch" {
		t.Fatalf("same token, other type: %v", err)
	}
	out, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{})
	if err != nil || len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 2 ||
		aws.ToString(out.Reservations[0].ReservationId) != aws.ToString(first.ReservationId) {
		t.Fatalf("one launch is one reservation of two: %+v, %v", out.Reservations, err)
	}
	byReservation, err := client.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{
		{Name: aws.String("reservation-id"), Values: []string{aws.ToString(first.ReservationId)}}}})
	if err != nil || len(byReservation.Reservations) != 1 {
		t.Fatalf("reservation-id filter: %+v, %v", byReservation, err)
	}
}

func TestEC2ThrottlesPerAccount(t *testing.T) {
	srv, _, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{},
		Throttle: Throttle{Describe: Bucket{Size: 2, Refill: 0.001}}})
	ctx := context.Background()
	alice, bob := clientFor(srv, "ALICE"), clientFor(srv, "BOB")
	for i := range 2 {
		if _, err := alice.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
			t.Fatalf("request %d within the bucket: %v", i, err)
		}
	}
	_, err := alice.DescribeRegions(ctx, &ec2.DescribeRegionsInput{})
	var re *awshttp.ResponseError
	if apiCode(err) != "RequestLimitExceeded" || !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Fatalf("third request: %v, want RequestLimitExceeded with 503", err)
	}
	if _, err := bob.DescribeRegions(ctx, &ec2.DescribeRegionsInput{}); err != nil {
		t.Fatalf("another account's bucket is its own: %v", err)
	}
}

// TestEC2ImagesBelongToAccounts registers, creates and deregisters images
// as two accounts: each sees the cloud's images and its own, never the
// other's.
func TestEC2ImagesBelongToAccounts(t *testing.T) {
	srv, systemImage, kernel := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	alice, bob := clientFor(srv, "ALICE"), clientFor(srv, "BOB")
	ctx := context.Background()
	reg, err := alice.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("mine"), KernelId: aws.String(kernel),
		Architecture: ec2types.ArchitectureValuesX8664, Description: aws.String("alice's kernel")})
	if err != nil {
		t.Fatal(err)
	}
	mine := aws.ToString(reg.ImageId)
	refusals := []struct {
		name string
		call func() error
		code string
	}{
		{"no disk and no kernel", func() error {
			_, err := alice.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("empty")})
			return err
		}, "MissingParameter"},
		{"another architecture", func() error {
			_, err := alice.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("arm"), KernelId: aws.String(kernel), Architecture: ec2types.ArchitectureValuesArm64})
			return err
		}, "InvalidParameterValue"},
		{"a digest nobody uploaded", func() error {
			_, err := alice.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("ghost"), ImageLocation: aws.String("sha256:" + strings.Repeat("0", 64))})
			return err
		}, "InvalidParameterValue"},
		{"a name alice already uses", func() error {
			_, err := alice.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("mine"), KernelId: aws.String(kernel)})
			return err
		}, "InvalidAMIName.Duplicate"},
		{"bob describing alice's image", func() error {
			_, err := bob.DescribeImages(ctx, &ec2.DescribeImagesInput{ImageIds: []string{mine}})
			return err
		}, "InvalidAMIID.NotFound"},
		{"bob launching alice's image", func() error {
			_, err := bob.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(mine), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
			return err
		}, "InvalidAMIID.NotFound"},
		{"bob deregistering alice's image", func() error {
			_, err := bob.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(mine)})
			return err
		}, "InvalidAMIID.NotFound"},
		{"alice deregistering the cloud's image", func() error {
			_, err := alice.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: aws.String(systemImage)})
			return err
		}, "UnauthorizedOperation"},
	}
	for _, r := range refusals {
		if err := r.call(); apiCode(err) != r.code {
			t.Errorf("%s: %v, want %s", r.name, err, r.code)
		}
	}
	// The same name is bob's to use too.
	if _, err := bob.RegisterImage(ctx, &ec2.RegisterImageInput{Name: aws.String("mine"), KernelId: aws.String(kernel)}); err != nil {
		t.Fatalf("bob registering a name alice uses: %v", err)
	}

	seen := func(c *ec2.Client, owners ...string) []string {
		out, err := c.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: owners})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, im := range out.Images {
			got = append(got, aws.ToString(im.Name)+"@"+aws.ToString(im.OwnerId))
		}
		slices.Sort(got)
		return got
	}
	if got := seen(alice, "self"); !slices.Equal(got, []string{"mine@acct-ALICE"}) {
		t.Errorf("alice's own: %v", got)
	}
	if got := seen(alice); len(got) != 2 || !slices.Contains(got, "mine@acct-ALICE") {
		t.Errorf("alice sees: %v", got)
	}
	if got := seen(bob, "acct-ALICE"); len(got) != 0 {
		t.Errorf("bob asking for alice's: %v", got)
	}

	run, err := alice.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(systemImage), MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	instance := aws.ToString(run.Instances[0].InstanceId)
	running := ec2.NewInstanceRunningWaiter(alice, func(o *ec2.InstanceRunningWaiterOptions) {
		o.MinDelay, o.MaxDelay = 20*time.Millisecond, 100*time.Millisecond
	})
	if err := running.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instance}}, time.Minute); err != nil {
		t.Fatal(err)
	}
	if _, err := bob.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(instance), Name: aws.String("stolen")}); apiCode(err) != "InvalidInstanceID.NotFound" {
		t.Fatalf("bob imaging alice's instance: %v", err)
	}
	created, err := alice.CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(instance), Name: aws.String("saved")})
	if err != nil {
		t.Fatal(err)
	}
	if err := running.Wait(ctx, &ec2.DescribeInstancesInput{InstanceIds: []string{instance}}, time.Minute); err != nil {
		t.Fatalf("the instance must run again after its image is made: %v", err)
	}
	if _, err := alice.DeregisterImage(ctx, &ec2.DeregisterImageInput{ImageId: created.ImageId}); err != nil {
		t.Fatal(err)
	}
	if got := seen(alice, "self"); !slices.Equal(got, []string{"mine@acct-ALICE"}) {
		t.Errorf("after deregistering: %v", got)
	}
}
