package api

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	elb "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing"
	elbtypes "github.com/aws/aws-sdk-go-v2/service/elasticloadbalancing/types"
	"github.com/aws/smithy-go"
)

func elbClientFor(srv *httptest.Server, key string) *elb.Client {
	return elb.New(elb.Options{Region: "local", BaseEndpoint: aws.String(srv.URL), RetryMaxAttempts: 1,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: key, SecretAccessKey: "secret"}, nil
		})})
}

func elbTCPListener(port, instancePort int) elbtypes.Listener {
	return elbtypes.Listener{Protocol: aws.String("TCP"), LoadBalancerPort: int32(port),
		InstanceProtocol: aws.String("TCP"), InstancePort: aws.Int32(int32(instancePort))}
}

// elbLaunch runs one instance for the account of client.
func elbLaunch(t *testing.T, client *ec2.Client, imageID string) string {
	t.Helper()
	out, err := client.RunInstances(context.Background(), &ec2.RunInstancesInput{ImageId: aws.String(imageID),
		MinCount: aws.Int32(1), MaxCount: aws.Int32(1)})
	if err != nil {
		t.Fatal(err)
	}
	return aws.ToString(out.Instances[0].InstanceId)
}

// TestELBWithTheSDK drives a load balancer through its life with the real
// ELB client. keyIsAccount checks that ELB requests are authenticated for
// the elasticloadbalancing service, and EC2's for ec2.
func TestELBWithTheSDK(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	lbs := elbClientFor(srv, "ALICE")
	instance := elbLaunch(t, clientFor(srv, "ALICE"), imageID)
	ctx := context.Background()
	port := freePort(t)

	created, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String("web"),
		Listeners: []elbtypes.Listener{elbTCPListener(port, 80)}, AvailabilityZones: []string{"local-a"}})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(created.DNSName) != "127.0.0.1" {
		t.Fatalf("DNSName %q", aws.ToString(created.DNSName))
	}
	described, err := lbs.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{"web"}})
	if err != nil {
		t.Fatal(err)
	}
	if len(described.LoadBalancerDescriptions) != 1 {
		t.Fatalf("described %d", len(described.LoadBalancerDescriptions))
	}
	d := described.LoadBalancerDescriptions[0]
	hc := d.HealthCheck
	if aws.ToString(d.LoadBalancerName) != "web" || aws.ToString(d.DNSName) != "127.0.0.1" || aws.ToString(d.Scheme) != "internet-facing" ||
		len(d.AvailabilityZones) != 1 || d.AvailabilityZones[0] != "local-a" || d.CreatedTime == nil || len(d.Instances) != 0 ||
		len(d.ListenerDescriptions) != 1 || d.ListenerDescriptions[0].Listener.LoadBalancerPort != int32(port) ||
		aws.ToInt32(d.ListenerDescriptions[0].Listener.InstancePort) != 80 || aws.ToString(d.ListenerDescriptions[0].Listener.Protocol) != "TCP" ||
		aws.ToString(hc.Target) != "TCP:80" || aws.ToInt32(hc.Interval) != 30 || aws.ToInt32(hc.Timeout) != 5 ||
		aws.ToInt32(hc.HealthyThreshold) != 10 || aws.ToInt32(hc.UnhealthyThreshold) != 2 {
		t.Fatalf("described %+v, health check %+v", d, hc)
	}
	for _, name := range []string{"web-b", "web-c"} {
		if _, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String(name),
			Listeners: []elbtypes.Listener{elbTCPListener(freePort(t), 80)}}); err != nil {
			t.Fatal(err)
		}
	}
	var paged []string
	pages := elb.NewDescribeLoadBalancersPaginator(lbs, &elb.DescribeLoadBalancersInput{PageSize: aws.Int32(2)})
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range out.LoadBalancerDescriptions {
			paged = append(paged, aws.ToString(d.LoadBalancerName))
		}
	}
	if strings.Join(paged, ",") != "web,web-b,web-c" {
		t.Fatalf("paged %v", paged)
	}
	for _, name := range []string{"web-b", "web-c"} {
		if _, err := lbs.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerName: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}

	configured, err := lbs.ConfigureHealthCheck(ctx, &elb.ConfigureHealthCheckInput{LoadBalancerName: aws.String("web"),
		HealthCheck: &elbtypes.HealthCheck{Target: aws.String("HTTP:8080/health"), Interval: aws.Int32(10), Timeout: aws.Int32(5),
			UnhealthyThreshold: aws.Int32(3), HealthyThreshold: aws.Int32(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if hc := configured.HealthCheck; aws.ToString(hc.Target) != "HTTP:8080/health" || aws.ToInt32(hc.Interval) != 10 ||
		aws.ToInt32(hc.Timeout) != 5 || aws.ToInt32(hc.UnhealthyThreshold) != 3 || aws.ToInt32(hc.HealthyThreshold) != 2 {
		t.Fatalf("configured %+v", hc)
	}

	registered, err := lbs.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
		LoadBalancerName: aws.String("web"), Instances: []elbtypes.Instance{{InstanceId: aws.String(instance)}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(registered.Instances) != 1 || aws.ToString(registered.Instances[0].InstanceId) != instance {
		t.Fatalf("registered %+v", registered.Instances)
	}
	// Instances of the fake host cannot be reached: out of service, for
	// whichever reason the checks have reached by now.
	for _, in := range [][]elbtypes.Instance{nil, {{InstanceId: aws.String(instance)}}} {
		health, err := lbs.DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("web"), Instances: in})
		if err != nil {
			t.Fatal(err)
		}
		if len(health.InstanceStates) != 1 {
			t.Fatalf("health of %d instances", len(health.InstanceStates))
		}
		st := health.InstanceStates[0]
		if aws.ToString(st.InstanceId) != instance || aws.ToString(st.State) != "OutOfService" ||
			(aws.ToString(st.ReasonCode) != "ELB" && aws.ToString(st.ReasonCode) != "Instance") || aws.ToString(st.Description) == "" {
			t.Fatalf("health %+v", st)
		}
	}
	deregistered, err := lbs.DeregisterInstancesFromLoadBalancer(ctx, &elb.DeregisterInstancesFromLoadBalancerInput{
		LoadBalancerName: aws.String("web"), Instances: []elbtypes.Instance{{InstanceId: aws.String(instance)}}})
	if err != nil || len(deregistered.Instances) != 0 {
		t.Fatalf("deregistered %+v %v", deregistered, err)
	}

	if _, err := lbs.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerName: aws.String("web")}); err != nil {
		t.Fatal(err)
	}
	var notFound *elbtypes.AccessPointNotFoundException
	if _, err := lbs.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{"web"}}); !errors.As(err, &notFound) {
		t.Fatalf("describe after delete: %v", err)
	}
	if _, err := lbs.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerName: aws.String("web")}); err != nil {
		t.Fatalf("delete again: %v", err)
	}
	// Its port is free again.
	if _, err := lbs.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String("web2"),
		Listeners: []elbtypes.Listener{elbTCPListener(port, 80)}}); err != nil {
		t.Fatal(err)
	}
}

func TestELBErrorCodes(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	alice, bob := elbClientFor(srv, "ALICE"), elbClientFor(srv, "BOB")
	alices, bobs := elbLaunch(t, clientFor(srv, "ALICE"), imageID), elbLaunch(t, clientFor(srv, "BOB"), imageID)
	ctx := context.Background()
	port := freePort(t)
	if _, err := alice.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String("web"),
		Listeners: []elbtypes.Listener{elbTCPListener(port, 80)}}); err != nil {
		t.Fatal(err)
	}
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	takenPort := taken.Addr().(*net.TCPAddr).Port
	create := func(name string, l elbtypes.Listener) func() error {
		return func() error {
			_, err := alice.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String(name),
				Listeners: []elbtypes.Listener{l}})
			return err
		}
	}
	register := func(lb, instance string) func() error {
		return func() error {
			_, err := alice.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
				LoadBalancerName: aws.String(lb), Instances: []elbtypes.Instance{{InstanceId: aws.String(instance)}}})
			return err
		}
	}
	health := func(target string, interval, timeout int32) func() error {
		return func() error {
			_, err := alice.ConfigureHealthCheck(ctx, &elb.ConfigureHealthCheckInput{LoadBalancerName: aws.String("web"),
				HealthCheck: &elbtypes.HealthCheck{Target: aws.String(target), Interval: aws.Int32(interval), Timeout: aws.Int32(timeout),
					UnhealthyThreshold: aws.Int32(2), HealthyThreshold: aws.Int32(2)}})
			return err
		}
	}
	cases := []struct {
		name string
		try  func() error
		code string
	}{
		{"unknown load balancer", func() error {
			_, err := alice.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{"web", "nope"}})
			return err
		}, "LoadBalancerNotFound"},
		{"health of an unknown load balancer", func() error {
			_, err := alice.DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("nope")})
			return err
		}, "LoadBalancerNotFound"},
		{"duplicate name", create("web", elbTCPListener(freePort(t), 80)), "DuplicateLoadBalancerName"},
		{"HTTP listener", create("web-http", elbtypes.Listener{Protocol: aws.String("HTTP"), LoadBalancerPort: int32(freePort(t)),
			InstancePort: aws.Int32(80)}), "ValidationError"},
		{"listener port out of range", create("web-big", elbTCPListener(70000, 80)), "ValidationError"},
		{"listener port of another load balancer", create("web-same", elbTCPListener(port, 80)), "InvalidConfigurationRequest"},
		{"listener port in use", create("web-taken", elbTCPListener(takenPort, 80)), "InvalidConfigurationRequest"},
		{"bad name", create("-web", elbTCPListener(freePort(t), 80)), "ValidationError"},
		{"other zone", func() error {
			_, err := alice.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String("web-zone"),
				Listeners: []elbtypes.Listener{elbTCPListener(freePort(t), 80)}, AvailabilityZones: []string{"us-east-1a"}})
			return err
		}, "ValidationError"},
		{"another account's instance", register("web", bobs), "InvalidInstance"},
		{"unknown instance", register("web", "i-0123456789abcdef0"), "InvalidInstance"},
		{"an address, not an instance", register("web", "127.0.0.1:80"), "InvalidInstance"},
		{"register with an unknown load balancer", func() error {
			_, err := bob.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
				LoadBalancerName: aws.String("nope"), Instances: []elbtypes.Instance{{InstanceId: aws.String(bobs)}}})
			return err
		}, "LoadBalancerNotFound"},
		{"deregister what is not registered", func() error {
			_, err := alice.DeregisterInstancesFromLoadBalancer(ctx, &elb.DeregisterInstancesFromLoadBalancerInput{
				LoadBalancerName: aws.String("web"), Instances: []elbtypes.Instance{{InstanceId: aws.String(alices)}}})
			return err
		}, "InvalidInstance"},
		{"health of an instance not registered", func() error {
			_, err := alice.DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("web"),
				Instances: []elbtypes.Instance{{InstanceId: aws.String(alices)}}})
			return err
		}, "InvalidInstance"},
		{"SSL health check", health("SSL:443", 10, 5), "ValidationError"},
		{"TCP health check with a path", health("TCP:80/x", 10, 5), "ValidationError"},
		{"timeout not below interval", health("TCP:80", 10, 10), "ValidationError"},
		{"interval out of range", health("TCP:80", 301, 5), "ValidationError"},
	}
	for _, c := range cases {
		if err := c.try(); apiCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	out, err := alice.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(out.LoadBalancerDescriptions) != 1 || len(out.LoadBalancerDescriptions[0].Instances) != 0 {
		t.Fatalf("after refused requests: %+v %v", out, err)
	}
}

// TestELBAccountsSeeOnlyTheirOwn checks that a load balancer is its
// account's: another account finds it nowhere and changes nothing of it,
// may use its name, but not its port.
func TestELBAccountsSeeOnlyTheirOwn(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	alice, bob := elbClientFor(srv, "ALICE"), elbClientFor(srv, "BOB")
	alices, bobs := elbLaunch(t, clientFor(srv, "ALICE"), imageID), elbLaunch(t, clientFor(srv, "BOB"), imageID)
	ctx := context.Background()
	alicePort, bobPort := freePort(t), freePort(t)
	for _, lb := range []struct {
		client *elb.Client
		name   string
		port   int
	}{{alice, "web", alicePort}, {alice, "alices", freePort(t)}, {bob, "web", bobPort}} {
		if _, err := lb.client.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String(lb.name),
			Listeners: []elbtypes.Listener{elbTCPListener(lb.port, 80)}}); err != nil {
			t.Fatalf("create %s: %v", lb.name, err)
		}
	}
	for _, name := range []string{"web", "alices"} {
		if _, err := alice.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
			LoadBalancerName: aws.String(name), Instances: []elbtypes.Instance{{InstanceId: aws.String(alices)}}}); err != nil {
			t.Fatal(err)
		}
	}

	listed, err := bob.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(listed.LoadBalancerDescriptions) != 1 {
		t.Fatalf("bob's list: %+v, %v", listed, err)
	}
	if d := listed.LoadBalancerDescriptions[0]; aws.ToString(d.LoadBalancerName) != "web" ||
		d.ListenerDescriptions[0].Listener.LoadBalancerPort != int32(bobPort) || len(d.Instances) != 0 {
		t.Fatalf("bob's web: %+v", d)
	}

	instances := func(id string) []elbtypes.Instance { return []elbtypes.Instance{{InstanceId: aws.String(id)}} }
	for _, c := range []struct {
		name string
		try  func() error
	}{
		{"describe", func() error {
			_, err := bob.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{LoadBalancerNames: []string{"alices"}})
			return err
		}},
		{"configure", func() error {
			_, err := bob.ConfigureHealthCheck(ctx, &elb.ConfigureHealthCheckInput{LoadBalancerName: aws.String("alices"),
				HealthCheck: &elbtypes.HealthCheck{Target: aws.String("TCP:22"), Interval: aws.Int32(10), Timeout: aws.Int32(5),
					UnhealthyThreshold: aws.Int32(2), HealthyThreshold: aws.Int32(2)}})
			return err
		}},
		{"register into", func() error {
			_, err := bob.RegisterInstancesWithLoadBalancer(ctx, &elb.RegisterInstancesWithLoadBalancerInput{
				LoadBalancerName: aws.String("alices"), Instances: instances(bobs)})
			return err
		}},
		{"deregister from", func() error {
			_, err := bob.DeregisterInstancesFromLoadBalancer(ctx, &elb.DeregisterInstancesFromLoadBalancerInput{
				LoadBalancerName: aws.String("alices"), Instances: instances(bobs)})
			return err
		}},
		{"health of", func() error {
			_, err := bob.DescribeInstanceHealth(ctx, &elb.DescribeInstanceHealthInput{LoadBalancerName: aws.String("alices")})
			return err
		}},
	} {
		if err := c.try(); apiCode(err) != "LoadBalancerNotFound" {
			t.Errorf("bob: %s alice's load balancer: %v, want LoadBalancerNotFound", c.name, err)
		}
	}
	// Her instances stay hers whatever the load balancer.
	if _, err := bob.DeregisterInstancesFromLoadBalancer(ctx, &elb.DeregisterInstancesFromLoadBalancerInput{
		LoadBalancerName: aws.String("web"), Instances: instances(alices)}); apiCode(err) != "InvalidInstance" {
		t.Errorf("bob: deregister alice's instance: %v, want InvalidInstance", err)
	}
	// Deleting what one does not see succeeds, as deleting what does not
	// exist, and deletes nothing.
	for _, name := range []string{"alices", "web"} {
		if _, err := bob.DeleteLoadBalancer(ctx, &elb.DeleteLoadBalancerInput{LoadBalancerName: aws.String(name)}); err != nil {
			t.Fatalf("bob: delete %s: %v", name, err)
		}
	}
	// Ports are the host's: one of alice's is refused to bob, without
	// naming her load balancer.
	_, err = bob.CreateLoadBalancer(ctx, &elb.CreateLoadBalancerInput{LoadBalancerName: aws.String("clash"),
		Listeners: []elbtypes.Listener{elbTCPListener(alicePort, 80)}})
	var ae smithy.APIError
	if !errors.As(err, &ae) || ae.ErrorCode() != "InvalidConfigurationRequest" ||
		strings.Contains(ae.ErrorMessage(), "web") || strings.Contains(ae.ErrorMessage(), "lb-") {
		t.Fatalf("bob on alice's port: %v", err)
	}

	described, err := alice.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{})
	if err != nil || len(described.LoadBalancerDescriptions) != 2 {
		t.Fatalf("alice's list after bob: %+v, %v", described, err)
	}
	for _, d := range described.LoadBalancerDescriptions {
		if len(d.Instances) != 1 || aws.ToString(d.Instances[0].InstanceId) != alices || aws.ToString(d.HealthCheck.Target) != "TCP:80" {
			t.Fatalf("alice's %s after bob: %+v, health check %+v", aws.ToString(d.LoadBalancerName), d.Instances, d.HealthCheck)
		}
	}
	if mine, err := bob.DescribeLoadBalancers(ctx, &elb.DescribeLoadBalancersInput{}); err != nil || len(mine.LoadBalancerDescriptions) != 0 {
		t.Fatalf("bob's list after deleting his: %+v, %v", mine, err)
	}
}

// elbRawQuery posts a form signed, as far as keyIsAccount looks, by key for
// service.
func elbRawQuery(t *testing.T, srv *httptest.Server, key, service, body string) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+key+"/20240102/local/"+service+
		"/aws4_request, SignedHeaders=host;x-amz-date, Signature=00")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(data)
}

// TestELBErrorDocument checks ELB's error document on the wire, and that
// each API takes only signatures for its own service.
func TestELBErrorDocument(t *testing.T) {
	srv, _, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	const elbDoc = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/"><Error><Type>Sender</Type>`
	cases := []struct {
		name, service, body, code, doc string
		status                         int
	}{
		{"unknown load balancer", "elasticloadbalancing",
			"Action=DescribeLoadBalancers&Version=2012-06-01&LoadBalancerNames.member.1=nope", "LoadBalancerNotFound", elbDoc, 400},
		{"unknown parameter", "elasticloadbalancing",
			"Action=DescribeLoadBalancers&Version=2012-06-01&Colour=red", "ValidationError", elbDoc, 400},
		{"stale marker", "elasticloadbalancing",
			"Action=DescribeLoadBalancers&Version=2012-06-01&Marker=gone", "ValidationError", elbDoc, 400},
		{"missing parameter", "elasticloadbalancing",
			"Action=DeleteLoadBalancer&Version=2012-06-01", "ValidationError", elbDoc, 400},
		{"unknown action", "elasticloadbalancing",
			"Action=CreateTargetGroup&Version=2012-06-01", "InvalidAction", elbDoc, 400},
		{"ELB signed for EC2", "ec2",
			"Action=DescribeLoadBalancers&Version=2012-06-01", "SignatureDoesNotMatch", elbDoc, 403},
		{"EC2 signed for ELB", "elasticloadbalancing",
			"Action=DescribeRegions&Version=2016-11-15", "SignatureDoesNotMatch", `<?xml version="1.0" encoding="UTF-8"?>` + "\n" + `<Response><Errors>`, 403},
	}
	for _, c := range cases {
		status, body := elbRawQuery(t, srv, "ALICE", c.service, c.body)
		if status != c.status || !strings.HasPrefix(body, c.doc) || !strings.Contains(body, "<Code>"+c.code+"</Code>") {
			t.Errorf("%s: %d %s", c.name, status, body)
		}
		if c.doc == elbDoc && !strings.Contains(body, "</Error><RequestId>") {
			t.Errorf("%s: no RequestId: %s", c.name, body)
		}
	}
	status, body := elbRawQuery(t, srv, "ALICE", "elasticloadbalancing", "Action=DeleteLoadBalancer&Version=2012-06-01&LoadBalancerName=nope")
	if status != 200 || !strings.Contains(body, "<DeleteLoadBalancerResult></DeleteLoadBalancerResult><ResponseMetadata><RequestId>") {
		t.Fatalf("idempotent delete: %d %s", status, body)
	}

	plain, _, _ := newTestAPI(t)
	status, body = elbRawQuery(t, plain, "ALICE", "elasticloadbalancing", "Action=DescribeLoadBalancers&Version=2012-06-01")
	if status != http.StatusForbidden || !strings.Contains(body, "<Code>InvalidClientTokenId</Code>") {
		t.Fatalf("without auth: %d %s", status, body)
	}
}
