package ec2query

import (
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
)

const form = "application/x-www-form-urlencoded; charset=utf-8"

func post(target, body, contentType string) *http.Request {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if contentType != "" {
		r.Header.Set("Content-Type", contentType)
	}
	return r
}

// parse decodes a POST of params after a valid Action and Version.
func parse(t *testing.T, params string) *Request {
	t.Helper()
	body := "Action=Test&Version=2016-11-15"
	if params != "" {
		body += "&" + params
	}
	req, err := Parse(post("/", body, form), 1<<20)
	if err != nil {
		t.Fatalf("Parse(%q): %v", params, err)
	}
	return req
}

// checkErr fails unless err is an *Error with code, or nil when code is "".
func checkErr(t *testing.T, err error, code string) {
	t.Helper()
	if code == "" {
		if err != nil {
			t.Fatalf("unexpected error %v", err)
		}
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want *Error %s", err, err, code)
	}
	if e.Code != code {
		t.Fatalf("error %v, want code %s", err, code)
	}
}

func TestParse(t *testing.T) {
	const ok = "Action=DescribeInstances&Version=2016-11-15"
	tests := []struct {
		name string
		req  *http.Request
		max  int64
		code string
	}{
		{"post with charset", post("/", ok, form), 0, ""},
		{"post without charset", post("/", ok, "application/x-www-form-urlencoded"), 0, ""},
		{"charset in capitals", post("/", ok, "application/x-www-form-urlencoded; charset=UTF-8"), 0, ""},
		{"post without content type", post("/", ok, ""), 0, ""},
		{"get", httptest.NewRequest(http.MethodGet, "/?"+ok, nil), 0, ""},
		{"query and body merged", post("/?Action=DescribeInstances", "Version=2016-11-15", form), 0, ""},
		{"post with params in the query only", post("/?"+ok, "", ""), 0, ""},
		{"put", httptest.NewRequest(http.MethodPut, "/?"+ok, nil), 0, "MethodNotAllowed"},
		{"json body", post("/", `{"Action":"DescribeInstances"}`, "application/json"), 0, "UnsupportedMediaType"},
		{"other charset", post("/", ok, "application/x-www-form-urlencoded; charset=latin1"), 0, "UnsupportedMediaType"},
		{"unparsable content type", post("/", ok, "application/x-www-form-urlencoded; ="), 0, "UnsupportedMediaType"},
		{"body too large", post("/", ok, form), 10, "RequestEntityTooLarge"},
		{"body exactly at the limit", post("/", ok, form), int64(len(ok)), ""},
		{"bad escape in body", post("/", ok+"&X=%zz", form), 0, "MalformedQueryString"},
		{"bad escape in query", post("/?X=%zz", ok, form), 0, "MalformedQueryString"},
		{"semicolon", post("/", ok+";X=1", form), 0, "MalformedQueryString"},
		{"nameless parameter", post("/", ok+"&=x", form), 0, "MalformedQueryString"},
		{"twice in the body", post("/", ok+"&X=1&X=1", form), 0, "InvalidParameterValue"},
		{"in query and body", post("/?Version=2016-11-15", ok, form), 0, "InvalidParameterValue"},
		{"value not utf-8", post("/", ok+"&X=%ff", form), 0, "InvalidCharacter"},
		{"name not utf-8", post("/", ok+"&%ff=1", form), 0, "InvalidCharacter"},
		{"no action", post("/", "Version=2016-11-15", form), 0, "MissingAction"},
		{"empty action", post("/", "Action=&Version=2016-11-15", form), 0, "MissingAction"},
		{"action with a space", post("/", "Action=Describe+Instances&Version=2016-11-15", form), 0, "InvalidAction"},
		{"action as markup", post("/", "Action=%3Cx%3E&Version=2016-11-15", form), 0, "InvalidAction"},
		{"action in lower case", post("/", "Action=describeInstances&Version=2016-11-15", form), 0, "InvalidAction"},
		{"no version", post("/", "Action=DescribeInstances", form), 0, "MissingParameter"},
		{"other version", post("/", "Action=DescribeInstances&Version=2015-12-01", form), 0, "NoSuchVersion"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			max := tt.max
			if max == 0 {
				max = 1 << 20
			}
			req, err := Parse(tt.req, max)
			checkErr(t, err, tt.code)
			if err != nil {
				return
			}
			if req.Action != "DescribeInstances" {
				t.Errorf("Action = %q", req.Action)
			}
			if u := req.Unused(); len(u) != 0 {
				t.Errorf("Unused = %v, want Action and Version read", u)
			}
		})
	}
}

func TestParseKeepsBody(t *testing.T) {
	const body = "Action=DescribeRegions&Version=2016-11-15"
	req, err := Parse(post("/", body, form), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	if string(req.Body) != body {
		t.Errorf("Body = %q, want %q", req.Body, body)
	}
}

// A body of unknown length is cut at the limit, not read to its end.
func TestParseUnknownLength(t *testing.T) {
	r := post("/", "", form)
	r.ContentLength = -1
	r.Body = io.NopCloser(io.MultiReader(strings.NewReader("Action=A&Version=2016-11-15&X="), infinite{}))
	_, err := Parse(r, 1<<16)
	checkErr(t, err, "RequestEntityTooLarge")
}

type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = 'a'
	}
	return len(p), nil
}

func TestString(t *testing.T) {
	tests := []struct {
		params, want, code string
	}{
		{"ImageId=ami-1", "ami-1", ""},
		{"ImageId=a+b%2Fc", "a b/c", ""},
		{"", "", "MissingParameter"},
		{"ImageId=", "", "MissingParameter"},
		{"imageId=ami-1", "", "MissingParameter"},
	}
	for _, tt := range tests {
		got, err := parse(t, tt.params).String("ImageId")
		checkErr(t, err, tt.code)
		if got != tt.want {
			t.Errorf("%s: String = %q, want %q", tt.params, got, tt.want)
		}
	}
}

func TestOptionalString(t *testing.T) {
	tests := []struct {
		params, want string
		ok           bool
	}{
		{"KeyName=k1", "k1", true},
		{"KeyName=", "", true},
		{"", "", false},
	}
	for _, tt := range tests {
		got, ok := parse(t, tt.params).OptionalString("KeyName")
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: OptionalString = %q, %v; want %q, %v", tt.params, got, ok, tt.want, tt.ok)
		}
	}
}

func TestInt(t *testing.T) {
	tests := []struct {
		params string
		want   int
		code   string
	}{
		{"MaxCount=1", 1, ""},
		{"MaxCount=20", 20, ""},
		{"MaxCount=0", 0, "InvalidParameterValue"},
		{"MaxCount=21", 0, "InvalidParameterValue"},
		{"MaxCount=-1", 0, "InvalidParameterValue"},
		{"MaxCount=2.5", 0, "InvalidParameterValue"},
		{"MaxCount=0x10", 0, "InvalidParameterValue"},
		{"MaxCount=99999999999999999999999", 0, "InvalidParameterValue"},
		{"MaxCount=", 0, "InvalidParameterValue"},
		{"", 0, "MissingParameter"},
	}
	for _, tt := range tests {
		got, err := parse(t, tt.params).Int("MaxCount", 1, 20)
		checkErr(t, err, tt.code)
		if got != tt.want {
			t.Errorf("%s: Int = %d, want %d", tt.params, got, tt.want)
		}
	}
}

func TestOptionalInt(t *testing.T) {
	tests := []struct {
		params string
		want   int
		ok     bool
		code   string
	}{
		{"MaxResults=5", 5, true, ""},
		{"MaxResults=1000", 1000, true, ""},
		{"", 0, false, ""},
		{"MaxResults=4", 0, true, "InvalidParameterValue"},
		{"MaxResults=ten", 0, true, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		got, ok, err := parse(t, tt.params).OptionalInt("MaxResults", 5, 1000)
		checkErr(t, err, tt.code)
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: OptionalInt = %d, %v; want %d, %v", tt.params, got, ok, tt.want, tt.ok)
		}
	}
}

func TestBool(t *testing.T) {
	tests := []struct {
		params string
		want   bool
		code   string
	}{
		{"DryRun=true", true, ""},
		{"DryRun=false", false, ""},
		{"DryRun=True", true, ""},
		{"DryRun=FALSE", false, ""},
		{"", false, ""},
		{"DryRun=", false, "InvalidParameterValue"},
		{"DryRun=1", false, "InvalidParameterValue"},
		{"DryRun=yes", false, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		got, err := parse(t, tt.params).Bool("DryRun")
		checkErr(t, err, tt.code)
		if got != tt.want {
			t.Errorf("%s: Bool = %v, want %v", tt.params, got, tt.want)
		}
	}
}

func TestBlob(t *testing.T) {
	tests := []struct {
		params string
		want   []byte
		code   string
	}{
		{"UserData=IyEvYmluL3NoCmVjaG8gaGk%3D", []byte("#!/bin/sh\necho hi"), ""},
		{"UserData=aGk%3D%0AaGk%3D", nil, "InvalidParameterValue"}, // padding in the middle
		{"UserData=aGVs%0AbG8%3D", []byte("hello"), ""},            // a line break as base64 tools write
		{"UserData=", []byte{}, ""},
		{"", nil, ""},
		{"UserData=aGk", nil, "InvalidParameterValue"},          // padding missing
		{"UserData=aGl%3D", nil, "InvalidParameterValue"},       // stray bits
		{"UserData=%23%21%2Fbin", nil, "InvalidParameterValue"}, // not base64 at all
		{"UserData=aGk%3D%3D", nil, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		got, err := parse(t, tt.params).Blob("UserData")
		checkErr(t, err, tt.code)
		if !reflect.DeepEqual(got, tt.want) {
			t.Errorf("%s: Blob = %q, want %q", tt.params, got, tt.want)
		}
	}
}

func TestUnused(t *testing.T) {
	req := parse(t, "InstanceId.1=i-1&InstanceId.2=i-2&Force=true&Foo=1&InstanceId.1.X=2&instanceId.3=i-3")
	if _, err := req.Strings("InstanceId"); err != nil {
		t.Fatal(err)
	}
	if _, err := req.Bool("Force"); err != nil {
		t.Fatal(err)
	}
	// DryRun is absent; reading it must not make it appear.
	if _, err := req.Bool("DryRun"); err != nil {
		t.Fatal(err)
	}
	want := []string{"Foo", "InstanceId.1.X", "instanceId.3"}
	if got := req.Unused(); !reflect.DeepEqual(got, want) {
		t.Errorf("Unused = %q, want %q", got, want)
	}
}

func TestClip(t *testing.T) {
	long := strings.Repeat("é", 40) // 80 bytes
	got := clip(long)
	if len(got) > 67 || !strings.HasSuffix(got, "...") || !strings.HasPrefix(long, strings.TrimSuffix(got, "...")) {
		t.Errorf("clip = %q", got)
	}
	if clip("short") != "short" {
		t.Error("clip changed a short value")
	}
}

func TestParseFor(t *testing.T) {
	for _, v := range []string{"2016-11-15", "2012-06-01"} {
		req, err := ParseFor(post("/", "Action=Test&Version="+v, form), 1<<20, "2016-11-15", "2012-06-01")
		if err != nil || req.Version != v || len(req.Unused()) != 0 {
			t.Fatalf("version %s: %+v %v", v, req, err)
		}
	}
	_, err := ParseFor(post("/", "Action=Test&Version=2015-12-01", form), 1<<20, "2016-11-15", "2012-06-01")
	checkErr(t, err, "NoSuchVersion")
	_, err = Parse(post("/", "Action=Test&Version=2012-06-01", form), 1<<20)
	checkErr(t, err, "NoSuchVersion")
}
