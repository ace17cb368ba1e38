package ec2query

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"
)

// These tests drive the codec with aws-sdk-go-v2's EC2 client, so that the
// parameter names the decoder expects and the documents the encoder writes
// are checked against a real client rather than against our reading of it.

// sdkClient returns an EC2 client aimed at a loopback server that answers
// every request with handle. Retries are off so an error answer is seen
// once, as sent.
func sdkClient(t *testing.T, handle func(w http.ResponseWriter, req *Request)) *ec2.Client {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if p := recover(); p != nil {
				t.Errorf("reading the request: %v", p)
				WriteError(w, "req-panic", InternalError())
			}
		}()
		req, err := Parse(r, 1<<20)
		if err != nil {
			var e *Error
			errors.As(err, &e)
			WriteError(w, "req-parse", e)
			return
		}
		handle(w, req)
	}))
	t.Cleanup(srv.Close)
	return ec2.New(ec2.Options{
		BaseEndpoint: aws.String(srv.URL),
		Region:       "us-east-1",
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", Source: "test"}, nil
		}),
		HTTPClient:       srv.Client(),
		RetryMaxAttempts: 1,
	})
}

// must stops a handler at an accessor's error; sdkClient's server reports
// it to the test.
func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func TestSDKRunInstances(t *testing.T) {
	type params struct {
		Action, ImageID, InstanceType, ClientToken string
		MinCount, MaxCount                         int
		UserData                                   []byte
		Specs                                      []TagSpecification
		Unused                                     []string
	}
	got := make(chan params, 1)
	client := sdkClient(t, func(w http.ResponseWriter, req *Request) {
		p := params{Action: req.Action}
		p.ImageID = must(req.String("ImageId"))
		p.InstanceType = must(req.String("InstanceType"))
		p.ClientToken = must(req.String("ClientToken"))
		p.MinCount = must(req.Int("MinCount", 1, 20))
		p.MaxCount = must(req.Int("MaxCount", 1, 20))
		p.UserData = must(req.Blob("UserData"))
		p.Specs = must(req.TagSpecifications("TagSpecification"))
		p.Unused = req.Unused()
		got <- p
		Write(w, req.Action, "req-run", reservation{
			ReservationID: "r-0aa",
			OwnerID:       "123456789012",
			Instances: List[instance]{
				{InstanceID: "i-1", ImageID: p.ImageID, State: instanceState{0, "pending"}},
				{InstanceID: "i-2", ImageID: p.ImageID, State: instanceState{0, "pending"}},
			},
		})
	})

	userData := "#!/bin/sh\necho hi\n"
	out, err := client.RunInstances(context.Background(), &ec2.RunInstancesInput{
		ImageId:      aws.String("ami-0abc"),
		InstanceType: types.InstanceTypeT3Micro,
		MinCount:     aws.Int32(1),
		MaxCount:     aws.Int32(2),
		// aws-sdk-go-v2 sends UserData as given: the caller encodes it.
		UserData: aws.String(base64.StdEncoding.EncodeToString([]byte(userData))),
		TagSpecifications: []types.TagSpecification{{
			ResourceType: types.ResourceTypeInstance,
			Tags: []types.Tag{
				{Key: aws.String("Name"), Value: aws.String("web")},
				{Key: aws.String("env"), Value: aws.String("")},
			},
		}},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := <-got
	if p.Action != "RunInstances" || p.ImageID != "ami-0abc" || p.InstanceType != "t3.micro" ||
		p.MinCount != 1 || p.MaxCount != 2 || string(p.UserData) != userData {
		t.Errorf("parsed %+v", p)
	}
	if p.ClientToken == "" {
		t.Error("no ClientToken: the SDK generates one for RunInstances")
	}
	wantSpecs := []TagSpecification{{ResourceType: "instance", Tags: []Tag{{"Name", "web", true}, {"env", "", true}}}}
	if !reflect.DeepEqual(p.Specs, wantSpecs) {
		t.Errorf("TagSpecifications = %+v, want %+v", p.Specs, wantSpecs)
	}
	if len(p.Unused) != 0 {
		t.Errorf("parameters the decoder did not expect: %q", p.Unused)
	}

	if aws.ToString(out.ReservationId) != "r-0aa" || aws.ToString(out.OwnerId) != "123456789012" || len(out.Instances) != 2 {
		t.Fatalf("decoded %+v", out)
	}
	if aws.ToString(out.Instances[1].InstanceId) != "i-2" || out.Instances[1].State.Name != types.InstanceStateNamePending {
		t.Errorf("second instance decoded as %+v", out.Instances[1])
	}
}

func TestSDKDescribeInstances(t *testing.T) {
	type params struct {
		IDs     []string
		Filters []Filter
		Unused  []string
	}
	got := make(chan params, 1)
	client := sdkClient(t, func(w http.ResponseWriter, req *Request) {
		p := params{}
		p.IDs = must(req.Strings("InstanceId"))
		p.Filters = must(req.Filters())
		p.Unused = req.Unused()
		got <- p
		Write(w, req.Action, "req-describe", oneReservation)
	})

	out, err := client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{
		InstanceIds: []string{"i-0123456789abcdef0", "i-0fedcba9876543210"},
		Filters: []types.Filter{
			{Name: aws.String("instance-state-name"), Values: []string{"running", "stopped"}},
			{Name: aws.String("tag:Name"), Values: []string{"web"}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	p := <-got
	want := params{
		IDs: []string{"i-0123456789abcdef0", "i-0fedcba9876543210"},
		Filters: []Filter{
			{Name: "instance-state-name", Values: []string{"running", "stopped"}},
			{Name: "tag:Name", Values: []string{"web"}},
		},
	}
	if !reflect.DeepEqual(p, want) {
		t.Errorf("parsed %+v, want %+v", p, want)
	}

	if len(out.Reservations) != 1 || len(out.Reservations[0].Instances) != 1 {
		t.Fatalf("decoded %+v", out)
	}
	res := out.Reservations[0]
	if aws.ToString(res.ReservationId) != "r-0aa" || aws.ToString(res.OwnerId) != "123456789012" || len(res.Groups) != 0 {
		t.Errorf("reservation decoded as %+v", res)
	}
	inst := res.Instances[0]
	checks := []struct {
		what      string
		got, want any
	}{
		{"InstanceId", aws.ToString(inst.InstanceId), "i-0123456789abcdef0"},
		{"ImageId", aws.ToString(inst.ImageId), "ami-0abc"},
		{"State.Code", aws.ToInt32(inst.State.Code), int32(16)},
		{"State.Name", inst.State.Name, types.InstanceStateNameRunning},
		{"InstanceType", inst.InstanceType, types.InstanceTypeT3Micro},
		{"LaunchTime", aws.ToTime(inst.LaunchTime).Equal(launched), true},
		{"PrivateIpAddress", aws.ToString(inst.PrivateIpAddress), "10.77.0.5"},
		{"EbsOptimized", inst.EbsOptimized != nil && !*inst.EbsOptimized, true},
		{"SourceDestCheck", aws.ToBool(inst.SourceDestCheck), true},
		{"Tags", len(inst.Tags), 1},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s decoded as %v, want %v", c.what, c.got, c.want)
		}
	}
	if len(inst.Tags) == 1 && (aws.ToString(inst.Tags[0].Key) != "Name" || aws.ToString(inst.Tags[0].Value) != "web & <db>") {
		t.Errorf("tag decoded as %s=%s", aws.ToString(inst.Tags[0].Key), aws.ToString(inst.Tags[0].Value))
	}
}

func TestSDKStopInstances(t *testing.T) {
	type params struct {
		IDs   []string
		Force bool
	}
	got := make(chan params, 1)
	client := sdkClient(t, func(w http.ResponseWriter, req *Request) {
		got <- params{must(req.Strings("InstanceId")), must(req.Bool("Force"))}
		Write(w, req.Action, "req-stop", stopInstances{Instances: List[stateChange]{
			{"i-1", instanceState{64, "stopping"}, instanceState{16, "running"}},
		}})
	})
	out, err := client.StopInstances(context.Background(), &ec2.StopInstancesInput{
		InstanceIds: []string{"i-1"},
		Force:       aws.Bool(true),
	})
	if err != nil {
		t.Fatal(err)
	}
	if p := <-got; !reflect.DeepEqual(p, params{[]string{"i-1"}, true}) {
		t.Errorf("parsed %+v", p)
	}
	if len(out.StoppingInstances) != 1 {
		t.Fatalf("decoded %+v", out)
	}
	sc := out.StoppingInstances[0]
	if aws.ToString(sc.InstanceId) != "i-1" ||
		aws.ToInt32(sc.CurrentState.Code) != 64 || sc.CurrentState.Name != types.InstanceStateNameStopping ||
		aws.ToInt32(sc.PreviousState.Code) != 16 || sc.PreviousState.Name != types.InstanceStateNameRunning {
		t.Errorf("state change decoded as %+v / %+v", sc.CurrentState, sc.PreviousState)
	}
}

func TestSDKNoOutput(t *testing.T) {
	type params struct {
		IDs  []string
		Tags []Tag
	}
	got := make(chan params, 1)
	client := sdkClient(t, func(w http.ResponseWriter, req *Request) {
		got <- params{must(req.Strings("ResourceId")), must(req.Tags("Tag"))}
		Write(w, req.Action, "req-tags", ReturnTrue)
	})
	_, err := client.CreateTags(context.Background(), &ec2.CreateTagsInput{
		Resources: []string{"i-1", "ami-2"},
		Tags:      []types.Tag{{Key: aws.String("a"), Value: aws.String("b")}},
	})
	if err != nil {
		t.Fatal(err)
	}
	want := params{[]string{"i-1", "ami-2"}, []Tag{{"a", "b", true}}}
	if p := <-got; !reflect.DeepEqual(p, want) {
		t.Errorf("parsed %+v, want %+v", p, want)
	}
}

func TestSDKErrors(t *testing.T) {
	tests := []*Error{
		{Code: "InvalidInstanceID.NotFound", Message: "The instance ID 'i-0000000000000000f' does not exist", Status: 400},
		UnknownParameter("Foo"),
		AuthFailure("AWS was not able to validate the provided access credentials"),
		DryRunOperation(),
		RequestLimitExceeded(),
		InternalError(),
	}
	for _, sent := range tests {
		t.Run(sent.Code, func(t *testing.T) {
			client := sdkClient(t, func(w http.ResponseWriter, req *Request) {
				WriteError(w, "req-"+sent.Code, sent)
			})
			_, err := client.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{})
			var apiErr smithy.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v is no smithy.APIError", err)
			}
			if apiErr.ErrorCode() != sent.Code || apiErr.ErrorMessage() != sent.Message {
				t.Errorf("decoded %q: %q, sent %q: %q", apiErr.ErrorCode(), apiErr.ErrorMessage(), sent.Code, sent.Message)
			}
			var respErr *awshttp.ResponseError
			if !errors.As(err, &respErr) {
				t.Fatalf("error %v carries no response", err)
			}
			if respErr.ServiceRequestID() != "req-"+sent.Code || respErr.HTTPStatusCode() != sent.Status {
				t.Errorf("request id %q status %d, sent %q %d",
					respErr.ServiceRequestID(), respErr.HTTPStatusCode(), "req-"+sent.Code, sent.Status)
			}
		})
	}
}
