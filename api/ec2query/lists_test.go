package ec2query

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

func TestStrings(t *testing.T) {
	tests := []struct {
		params string
		want   []string
		code   string
	}{
		{"", nil, ""},
		{"InstanceId.1=i-1", []string{"i-1"}, ""},
		{"InstanceId.2=i-2&InstanceId.1=i-1&InstanceId.3=i-3", []string{"i-1", "i-2", "i-3"}, ""},
		{"InstanceId.1=i-1&InstanceId.2=i-1", []string{"i-1", "i-1"}, ""}, // repeated values are the action's business
		{"InstanceId.1=", []string{""}, ""},
		{"InstanceId.1=i-1&InstanceId.3=i-3", nil, "InvalidParameterValue"},
		{"InstanceId.2=i-2", nil, "InvalidParameterValue"},
		{"InstanceId.0=i-0", nil, "InvalidParameterValue"},
		{"InstanceId.01=i-1", nil, "InvalidParameterValue"},
		{"InstanceId.1=i-1&InstanceId.01=i-1", nil, "InvalidParameterValue"},
		{"InstanceId.+1=i-1", nil, "InvalidParameterValue"},
		{"InstanceId.-1=i-1", nil, "InvalidParameterValue"},
		{"InstanceId.x=i-1", nil, "InvalidParameterValue"},
		{"InstanceId.=i-1", nil, "InvalidParameterValue"},
		{"InstanceId.1001=i-1", nil, "InvalidParameterValue"},
		{"InstanceId.99999999999999999999=i-1", nil, "InvalidParameterValue"},
		{"InstanceId.1=i-1&InstanceId.1=i-2", nil, "parse"}, // refused by Parse already
		// Names that only look like members are left for Unused.
		{"InstanceId=i-1&InstanceIds.1=i-2&InstanceId.1.Name=x", nil, ""},
	}
	for _, tt := range tests {
		if tt.code == "parse" {
			_, err := Parse(post("/", "Action=A&Version=2016-11-15&"+tt.params, form), 1<<20)
			checkErr(t, err, "InvalidParameterValue")
			continue
		}
		got, err := parse(t, tt.params).Strings("InstanceId")
		checkErr(t, err, tt.code)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Strings = %q, want %q", tt.params, got, tt.want)
		}
	}
}

func TestStringsBound(t *testing.T) {
	var b strings.Builder
	for i := 1; i <= maxMembers; i++ {
		b.WriteString("&ResourceId." + strconv.Itoa(i) + "=r")
	}
	got, err := parse(t, b.String()[1:]).Strings("ResourceId")
	if err != nil || len(got) != maxMembers {
		t.Fatalf("%d members: %d, %v", maxMembers, len(got), err)
	}
	b.WriteString("&ResourceId." + strconv.Itoa(maxMembers+1) + "=r")
	_, err = parse(t, b.String()[1:]).Strings("ResourceId")
	checkErr(t, err, "InvalidParameterValue")
}

func TestFilters(t *testing.T) {
	tests := []struct {
		params string
		want   []Filter
		code   string
	}{
		{"", nil, ""},
		{
			"Filter.1.Name=instance-state-name&Filter.1.Value.1=running&Filter.1.Value.2=stopped" +
				"&Filter.2.Name=tag%3AName&Filter.2.Value.1=web",
			[]Filter{
				{Name: "instance-state-name", Values: []string{"running", "stopped"}},
				{Name: "tag:Name", Values: []string{"web"}},
			}, "",
		},
		{"Filter.1.Name=tag-key", []Filter{{Name: "tag-key"}}, ""},
		{"Filter.1.Name=a&Filter.1.Value.1=", []Filter{{Name: "a", Values: []string{""}}}, ""},
		{"Filter.1.Value.1=running", nil, "MissingParameter"},
		{"Filter.1.Name=&Filter.1.Value.1=running", nil, "MissingParameter"},
		{"Filter.1.Name=a&Filter.3.Name=b", nil, "InvalidParameterValue"},
		{"Filter.1.Name=a&Filter.1.Value.2=x", nil, "InvalidParameterValue"},
		{"Filter.1.Name=a&Filter.1.Value.one=x", nil, "InvalidParameterValue"},
		{"Filter.x.Name=a", nil, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		got, err := parse(t, tt.params).Filters()
		checkErr(t, err, tt.code)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Filters = %+v, want %+v", tt.params, got, tt.want)
		}
	}
}

func TestFiltersLeaveUnknownFields(t *testing.T) {
	req := parse(t, "Filter.1.Name=a&Filter.1.Values.1=x&Filter.1=y")
	if _, err := req.Filters(); err != nil {
		t.Fatal(err)
	}
	want := []string{"Filter.1", "Filter.1.Values.1"}
	if got := req.Unused(); !reflect.DeepEqual(got, want) {
		t.Errorf("Unused = %q, want %q", got, want)
	}
}

func TestTags(t *testing.T) {
	tests := []struct {
		params string
		want   []Tag
		code   string
	}{
		{"", nil, ""},
		{
			"Tag.1.Key=Name&Tag.1.Value=web&Tag.2.Key=env&Tag.2.Value=&Tag.3.Key=gone",
			[]Tag{
				{Key: "Name", Value: "web", HasValue: true},
				{Key: "env", Value: "", HasValue: true},
				{Key: "gone"},
			}, "",
		},
		{"Tag.1.Value=web", nil, "MissingParameter"},
		{"Tag.1.Key=&Tag.1.Value=web", nil, "MissingParameter"},
		{"Tag.2.Key=a", nil, "InvalidParameterValue"},
		{"Tag.1.Key=a&Tag.1.Key=b", nil, "parse"},
	}
	for _, tt := range tests {
		if tt.code == "parse" {
			_, err := Parse(post("/", "Action=A&Version=2016-11-15&"+tt.params, form), 1<<20)
			checkErr(t, err, "InvalidParameterValue")
			continue
		}
		got, err := parse(t, tt.params).Tags("Tag")
		checkErr(t, err, tt.code)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Tags = %+v, want %+v", tt.params, got, tt.want)
		}
	}
}

func TestTagSpecifications(t *testing.T) {
	tests := []struct {
		params string
		want   []TagSpecification
		code   string
	}{
		{"", nil, ""},
		{
			"TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=Name&TagSpecification.1.Tag.1.Value=web" +
				"&TagSpecification.1.Tag.2.Key=env&TagSpecification.1.Tag.2.Value=prod" +
				"&TagSpecification.2.ResourceType=volume&TagSpecification.2.Tag.1.Key=a",
			[]TagSpecification{
				{ResourceType: "instance", Tags: []Tag{{"Name", "web", true}, {"env", "prod", true}}},
				{ResourceType: "volume", Tags: []Tag{{Key: "a"}}},
			}, "",
		},
		{"TagSpecification.1.ResourceType=instance", []TagSpecification{{ResourceType: "instance"}}, ""},
		{"TagSpecification.1.Tag.1.Key=Name", nil, "MissingParameter"},
		{"TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Value=web", nil, "MissingParameter"},
		{"TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.2.Key=a", nil, "InvalidParameterValue"},
		{"TagSpecification.2.ResourceType=instance", nil, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		got, err := parse(t, tt.params).TagSpecifications("TagSpecification")
		checkErr(t, err, tt.code)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: TagSpecifications = %+v, want %+v", tt.params, got, tt.want)
		}
	}
}

// A list's members are found among many other parameters, and prefixes
// that share a start (Tag, TagSpecification) stay apart.
func TestListsApart(t *testing.T) {
	req := parse(t, "Tag.1.Key=a&TagSpecification.1.ResourceType=instance&TagSpecification.1.Tag.1.Key=b&Tags.1.Key=c")
	tags, err := req.Tags("Tag")
	if err != nil || len(tags) != 1 || tags[0].Key != "a" {
		t.Fatalf("Tags = %+v, %v", tags, err)
	}
	specs, err := req.TagSpecifications("TagSpecification")
	if err != nil || len(specs) != 1 || specs[0].Tags[0].Key != "b" {
		t.Fatalf("TagSpecifications = %+v, %v", specs, err)
	}
	if got := req.Unused(); !reflect.DeepEqual(got, []string{"Tags.1.Key"}) {
		t.Errorf("Unused = %q", got)
	}
}

func TestMembers(t *testing.T) {
	tests := []struct {
		params string
		want   int
		code   string
	}{
		{"", 0, ""},
		{"Listeners.member.1.Protocol=TCP&Listeners.member.1.InstancePort=80", 1, ""},
		{"Listeners.member.2.Protocol=TCP&Listeners.member.1.Protocol=TCP", 2, ""},
		{"Listeners.member.2.Protocol=TCP", 0, "InvalidParameterValue"},
		{"Listeners.member.x.Protocol=TCP", 0, "InvalidParameterValue"},
		// A leaf is not a structure: left for Unused.
		{"Listeners.member.1=TCP", 0, ""},
	}
	for _, tt := range tests {
		n, err := parse(t, tt.params).Members("Listeners.member")
		checkErr(t, err, tt.code)
		if n != tt.want {
			t.Errorf("Members(%q) = %d, want %d", tt.params, n, tt.want)
		}
	}
}
