package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"

	"kumo/api/wire"
)

func tag(k, v string) ec2types.Tag { return ec2types.Tag{Key: aws.String(k), Value: aws.String(v)} }

func filter(name string, values ...string) ec2types.Filter {
	return ec2types.Filter{Name: aws.String(name), Values: values}
}

// launch runs n instances with tags through EC2 and returns their ids.
func launch(t *testing.T, c *ec2.Client, imageID string, n int32, tags ...ec2types.Tag) []string {
	t.Helper()
	in := &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(n), MaxCount: aws.Int32(n)}
	if len(tags) > 0 {
		in.TagSpecifications = []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: tags}}
	}
	out, err := c.RunInstances(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, i := range out.Instances {
		ids = append(ids, aws.ToString(i.InstanceId))
		if got, want := renderTags(i.Tags), renderTags(tags); !slices.Equal(got, want) {
			t.Fatalf("RunInstances answers tags %v, want %v", got, want)
		}
	}
	return ids
}

// renderTags gives tags as sorted key=value strings.
func renderTags(tags []ec2types.Tag) []string {
	out := []string{}
	for _, t := range tags {
		out = append(out, aws.ToString(t.Key)+"="+aws.ToString(t.Value))
	}
	slices.Sort(out)
	return out
}

// describedTags returns the tags DescribeInstances shows for id.
func describedTags(t *testing.T, c *ec2.Client, id string) []string {
	t.Helper()
	out, err := c.DescribeInstances(context.Background(), &ec2.DescribeInstancesInput{InstanceIds: []string{id}})
	if err != nil {
		t.Fatal(err)
	}
	return renderTags(out.Reservations[0].Instances[0].Tags)
}

// restName returns the name the REST API shows for id.
func restName(t *testing.T, srv *httptest.Server, account, id string) string {
	t.Helper()
	var v wire.Instance
	if code := callAs(t, srv, account, "GET", "/api/v1/instances/"+id, nil, &v); code != http.StatusOK {
		t.Fatalf("GET instance %s: %d", id, code)
	}
	return v.Name
}

func TestEC2TagsWithTheSDK(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	c := clientFor(srv, "ALICE")
	ctx := context.Background()
	ids := launch(t, c, imageID, 2, tag("Name", "web"), tag("env", "prod"))
	plain := launch(t, c, imageID, 1)[0]

	if got := describedTags(t, c, ids[0]); !slices.Equal(got, []string{"Name=web", "env=prod"}) {
		t.Fatalf("tags at launch: %v", got)
	}
	if restName(t, srv, "acct-ALICE", ids[1]) != "web" {
		t.Fatal("the Name tag at launch did not name the instance")
	}

	steps := []struct {
		name   string
		do     func() error
		tags   []string // of ids[0] afterwards
		rest   string   // its name in the REST API afterwards
		others []string // of ids[1] afterwards
	}{
		{"create", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{tag("team", "a"), tag("Name", "api")}})
			return err
		}, []string{"Name=api", "env=prod", "team=a"}, "api", []string{"Name=api", "env=prod", "team=a"}},
		{"replace a value, one instance", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids[:1], Tags: []ec2types.Tag{tag("team", "b"), {Key: aws.String("empty")}}})
			return err
		}, []string{"Name=api", "empty=", "env=prod", "team=b"}, "api", []string{"Name=api", "env=prod", "team=a"}},
		{"delete with a value that does not match", func() error {
			_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: []ec2types.Tag{tag("env", "dev"), tag("Name", "web")}})
			return err
		}, []string{"Name=api", "empty=", "env=prod", "team=b"}, "api", []string{"Name=api", "env=prod", "team=a"}},
		{"delete with a value that matches", func() error {
			_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: []ec2types.Tag{tag("team", "a"), tag("empty", "")}})
			return err
		}, []string{"Name=api", "env=prod", "team=b"}, "api", []string{"Name=api", "env=prod"}},
		{"delete without a value", func() error {
			_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: []ec2types.Tag{{Key: aws.String("Name")}, {Key: aws.String("team")}}})
			return err
		}, []string{"env=prod"}, "", []string{"env=prod"}},
		{"delete every tag", func() error {
			_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids[1:]})
			return err
		}, []string{"env=prod"}, "", []string{}},
	}
	for _, s := range steps {
		if err := s.do(); err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		if got := describedTags(t, c, ids[0]); !slices.Equal(got, s.tags) {
			t.Fatalf("%s: tags %v, want %v", s.name, got, s.tags)
		}
		if got := describedTags(t, c, ids[1]); !slices.Equal(got, s.others) {
			t.Fatalf("%s: other instance's tags %v, want %v", s.name, got, s.others)
		}
		if got := restName(t, srv, "acct-ALICE", ids[0]); got != s.rest {
			t.Fatalf("%s: REST name %q, want %q", s.name, got, s.rest)
		}
	}
	if got := describedTags(t, c, plain); len(got) != 0 {
		t.Fatalf("an instance no call named has tags %v", got)
	}
}

func TestEC2TagRefusals(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	c := clientFor(srv, "ALICE")
	ctx := context.Background()
	ids := launch(t, c, imageID, 1, tag("env", "prod"))
	var fifty []ec2types.Tag
	for i := range 49 {
		fifty = append(fifty, tag(fmt.Sprintf("k%02d", i), "v"))
	}
	if _, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: fifty}); err != nil {
		t.Fatalf("up to 50 tags: %v", err)
	}
	create := func(resources []string, tags ...ec2types.Tag) func() error {
		return func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: resources, Tags: tags})
			return err
		}
	}
	cases := []struct {
		name string
		try  func() error
		code string
	}{
		{"51st tag", create(ids, tag("one-more", "x")), "TagLimitExceeded"},
		{"129-character key", create(ids, tag(strings.Repeat("k", 129), "x")), "InvalidParameterValue"},
		{"257-character value", create(ids, tag("k", strings.Repeat("v", 257))), "InvalidParameterValue"},
		{"aws: key", create(ids, tag("aws:cloudformation:stack-name", "x")), "InvalidParameterValue"},
		{"unknown instance", create([]string{"i-0123456789abcdef0"}, tag("k", "v")), "InvalidInstanceID.NotFound"},
		{"malformed instance id", create([]string{"i-xyz"}, tag("k", "v")), "InvalidInstanceID.Malformed"},
		{"untaggable resource", create([]string{"vol-0123456789abcdef0"}, tag("k", "v")), "InvalidID"},
		{"dry run", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{tag("env", "dev")}, DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation"},
		{"dry run of a refused call", func() error {
			_, err := c.CreateTags(ctx, &ec2.CreateTagsInput{Resources: ids, Tags: []ec2types.Tag{tag("aws:x", "y")}, DryRun: aws.Bool(true)})
			return err
		}, "InvalidParameterValue"},
		{"delete an aws: key", func() error {
			_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, Tags: []ec2types.Tag{{Key: aws.String("aws:x")}}})
			return err
		}, "InvalidParameterValue"},
		{"delete, dry run", func() error {
			_, err := c.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: ids, DryRun: aws.Bool(true)})
			return err
		}, "DryRunOperation"},
		{"launch with an aws: key", func() error {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeInstance, Tags: []ec2types.Tag{tag("aws:x", "y")}}}})
			return err
		}, "InvalidParameterValue"},
		{"launch tagging a volume", func() error {
			_, err := c.RunInstances(ctx, &ec2.RunInstancesInput{ImageId: aws.String(imageID), MinCount: aws.Int32(1), MaxCount: aws.Int32(1),
				TagSpecifications: []ec2types.TagSpecification{{ResourceType: ec2types.ResourceTypeVolume, Tags: []ec2types.Tag{tag("k", "v")}}}})
			return err
		}, "InvalidParameterValue"},
		{"unknown DescribeTags filter", func() error {
			_, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: []ec2types.Filter{filter("colour", "red")}})
			return err
		}, "InvalidParameterValue"},
	}
	for _, tc := range cases {
		if err := tc.try(); apiCode(err) != tc.code {
			t.Errorf("%s: %v, want %s", tc.name, err, tc.code)
		}
	}
	if got := describedTags(t, c, ids[0]); len(got) != 50 || !slices.Contains(got, "env=prod") {
		t.Fatalf("refused calls changed tags: %d of them, %v", len(got), got[:3])
	}
	// CreateTags without Tag, sent raw: the SDK refuses to send it.
	req, _ := http.NewRequest("POST", srv.URL+"/", strings.NewReader("Action=CreateTags&Version=2016-11-15&ResourceId.1="+ids[0]))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=ALICE/20260101/local/ec2/aws4_request, SignedHeaders=host, Signature=0")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "<Code>MissingParameter</Code>") {
		t.Fatalf("CreateTags without tags: %d %s", resp.StatusCode, body)
	}
}

func TestEC2TagFilters(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	c := clientFor(srv, "ALICE")
	ctx := context.Background()
	web := launch(t, c, imageID, 2, tag("Name", "web"), tag("env", "prod"))
	db := launch(t, c, imageID, 1, tag("Name", "db"), tag("env", "dev"), tag("backup", ""))
	bare := launch(t, c, imageID, 1)

	instanceCases := []struct {
		name    string
		filters []ec2types.Filter
		want    []string
	}{
		{"tag:Name", []ec2types.Filter{filter("tag:Name", "web")}, web},
		{"tag:KEY with a wildcard", []ec2types.Filter{filter("tag:env", "d*")}, db},
		{"tag:KEY of any value", []ec2types.Filter{filter("tag:backup", "*")}, db},
		{"tag-key", []ec2types.Filter{filter("tag-key", "backup", "Name")}, append(slices.Clone(web), db...)},
		{"tag-value", []ec2types.Filter{filter("tag-value", "prod")}, web},
		{"two tag filters", []ec2types.Filter{filter("tag:Name", "web", "db"), filter("tag:env", "dev")}, db},
		{"no match", []ec2types.Filter{filter("tag:Name", "cache")}, nil},
	}
	for _, tc := range instanceCases {
		out, err := c.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: tc.filters})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		var got []string
		for _, r := range out.Reservations {
			for _, in := range r.Instances {
				got = append(got, aws.ToString(in.InstanceId))
			}
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tc.want))
		if !slices.Equal(got, want) {
			t.Errorf("DescribeInstances %s: %v, want %v", tc.name, got, want)
		}
	}

	tagCases := []struct {
		name    string
		filters []ec2types.Filter
		want    int
	}{
		{"all", nil, 7},
		{"key", []ec2types.Filter{filter("key", "Name")}, 3},
		{"key wildcard", []ec2types.Filter{filter("key", "N*", "b?ckup")}, 4},
		{"value", []ec2types.Filter{filter("value", "prod", "")}, 3},
		{"resource-id", []ec2types.Filter{filter("resource-id", db[0], bare[0])}, 3},
		{"resource-type", []ec2types.Filter{filter("resource-type", "instance")}, 7},
		{"another resource type", []ec2types.Filter{filter("resource-type", "image")}, 0},
		{"key and value", []ec2types.Filter{filter("key", "env"), filter("value", "dev")}, 1},
		{"the same filter twice", []ec2types.Filter{filter("key", "env", "Name"), filter("key", "E*", "e*")}, 3},
	}
	for _, tc := range tagCases {
		out, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: tc.filters})
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if len(out.Tags) != tc.want {
			t.Errorf("DescribeTags %s: %d tags, want %d", tc.name, len(out.Tags), tc.want)
		}
		for _, d := range out.Tags {
			if d.ResourceType != ec2types.ResourceTypeInstance || aws.ToString(d.ResourceId) == "" || d.Key == nil || d.Value == nil {
				t.Errorf("DescribeTags %s: %+v", tc.name, d)
			}
		}
	}

	seen := map[string]bool{}
	pages := ec2.NewDescribeTagsPaginator(c, &ec2.DescribeTagsInput{MaxResults: aws.Int32(5)})
	n := 0
	for pages.HasMorePages() {
		out, err := pages.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n++
		for _, d := range out.Tags {
			k := aws.ToString(d.ResourceId) + "/" + aws.ToString(d.Key)
			if seen[k] {
				t.Fatalf("%s on two pages", k)
			}
			seen[k] = true
		}
	}
	if len(seen) != 7 || n != 2 {
		t.Fatalf("%d tags over %d pages", len(seen), n)
	}
	if _, err := c.DescribeTags(ctx, &ec2.DescribeTagsInput{MaxResults: aws.Int32(4)}); apiCode(err) != "InvalidParameterValue" {
		t.Fatalf("MaxResults 4: %v", err)
	}
}

// TestEC2TagsOfOtherAccounts has a second account try to tag, untag and
// read the first one's tags: each attempt must fail as if the instances
// did not exist, and change nothing.
func TestEC2TagsOfOtherAccounts(t *testing.T) {
	srv, imageID, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, EC2Auth: keyIsAccount{}})
	alice, bob := clientFor(srv, "ALICE"), clientFor(srv, "BOB")
	ctx := context.Background()
	alices := launch(t, alice, imageID, 1, tag("Name", "web"), tag("env", "prod"))
	bobs := launch(t, bob, imageID, 1, tag("env", "dev"))
	mixed := []string{bobs[0], alices[0]}

	attempts := map[string]func() error{
		"create": func() error {
			_, err := bob.CreateTags(ctx, &ec2.CreateTagsInput{Resources: alices, Tags: []ec2types.Tag{tag("Name", "mine")}})
			return err
		},
		"create on a mix": func() error {
			_, err := bob.CreateTags(ctx, &ec2.CreateTagsInput{Resources: mixed, Tags: []ec2types.Tag{tag("env", "stolen")}})
			return err
		},
		"create, dry run": func() error {
			_, err := bob.CreateTags(ctx, &ec2.CreateTagsInput{Resources: alices, Tags: []ec2types.Tag{tag("k", "v")}, DryRun: aws.Bool(true)})
			return err
		},
		"delete": func() error {
			_, err := bob.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: alices})
			return err
		},
		"delete on a mix": func() error {
			_, err := bob.DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: mixed, Tags: []ec2types.Tag{{Key: aws.String("env")}}})
			return err
		},
	}
	for name, try := range attempts {
		if err := try(); apiCode(err) != "InvalidInstanceID.NotFound" {
			t.Errorf("bob's %s on alice's instance: %v, want InvalidInstanceID.NotFound", name, err)
		}
	}
	if got := describedTags(t, alice, alices[0]); !slices.Equal(got, []string{"Name=web", "env=prod"}) {
		t.Fatalf("alice's tags after bob's attempts: %v", got)
	}
	if restName(t, srv, "acct-ALICE", alices[0]) != "web" {
		t.Fatal("bob renamed alice's instance")
	}
	if got := describedTags(t, bob, bobs[0]); !slices.Equal(got, []string{"env=dev"}) {
		t.Fatalf("bob's own tags after his refused calls: %v", got)
	}

	reads := map[string][]ec2types.Filter{
		"all":                      nil,
		"alice's instance":         {filter("resource-id", alices[0])},
		"alice's key and value":    {filter("key", "Name"), filter("value", "web")},
		"any alice instance, wild": {filter("resource-id", "i-*")},
	}
	for name, filters := range reads {
		out, err := bob.DescribeTags(ctx, &ec2.DescribeTagsInput{Filters: filters})
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range out.Tags {
			if aws.ToString(d.ResourceId) != bobs[0] {
				t.Errorf("bob's DescribeTags (%s) shows %s's %s", name, aws.ToString(d.ResourceId), aws.ToString(d.Key))
			}
		}
	}
	seen, err := bob.DescribeInstances(ctx, &ec2.DescribeInstancesInput{Filters: []ec2types.Filter{filter("tag:Name", "web")}})
	if err != nil || len(seen.Reservations) != 0 {
		t.Fatalf("bob's DescribeInstances by alice's tag: %+v %v", seen, err)
	}
	all, err := alice.DescribeTags(ctx, &ec2.DescribeTagsInput{})
	if err != nil || len(all.Tags) != 2 {
		t.Fatalf("alice's DescribeTags: %+v %v", all, err)
	}
}
