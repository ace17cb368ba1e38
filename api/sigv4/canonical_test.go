package sigv4

import (
	"bufio"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestKnownAnswer checks a request that botocore signed, so the canonical
// request is not only checked against the Go SDK's idea of it.
func TestKnownAnswer(t *testing.T) {
	const sig = "802e38c6825cb25ff42c7c3ab815278c0cff89e1551ebe97b700526f4b252aed"
	raw := "POST / HTTP/1.1\r\n" +
		"Host: 127.0.0.1:4566\r\n" +
		"Content-Type: application/x-www-form-urlencoded; charset=utf-8\r\n" +
		"X-Amz-Date: 20240102T030405Z\r\n" +
		"Authorization: AWS4-HMAC-SHA256 Credential=" + keyID + "/20240102/us-east-1/ec2/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + sig + "\r\n" +
		fmt.Sprintf("Content-Length: %d\r\n\r\n", len(form)) + form
	r, err := http.ReadRequest(bufio.NewReader(strings.NewReader(raw)))
	if err != nil {
		t.Fatal(err)
	}
	if h := hashHex(form); !strings.HasPrefix(h, "903451d1") || !strings.HasSuffix(h, "86b6a0d") {
		t.Fatalf("payload hash %s", h)
	}
	id, err := Verify(r, readBody(t, r), time.Date(2024, 1, 2, 3, 10, 0, 0, time.UTC), keys)
	if err != nil || id.Signature != sig {
		t.Fatalf("Verify: %+v, %v", id, err)
	}
}

func TestURIEncode(t *testing.T) {
	for _, tc := range []struct{ in, path, query string }{
		{"AZaz09-_.~", "AZaz09-_.~", "AZaz09-_.~"},
		{"a b", "a%20b", "a%20b"},
		{"a/b", "a/b", "a%2Fb"},
		{"a+b=c&d", "a%2Bb%3Dc%26d", "a%2Bb%3Dc%26d"},
		{"%2F", "%252F", "%252F"},
		{"é", "%C3%A9", "%C3%A9"},
		{"tag:Name", "tag%3AName", "tag%3AName"},
	} {
		if got := uriEncode(tc.in, false); got != tc.path {
			t.Errorf("uriEncode(%q, path) = %q, want %q", tc.in, got, tc.path)
		}
		if got := uriEncode(tc.in, true); got != tc.query {
			t.Errorf("uriEncode(%q, query) = %q, want %q", tc.in, got, tc.query)
		}
	}
}

func TestCanonicalURI(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", "/"},
		{"/", "/"},
		{"/a/b", "/a/b"},
		{"/a/b/", "/a/b/"},
		{"/a//b", "/a/b"},
		{"/a/./b/../c", "/a/c"},
		{"/a/.", "/a/"},
		{"/../a", "/a"},
		{"/documents%20and%20settings/", "/documents%2520and%2520settings/"},
	} {
		if got := canonicalURI(tc.in); got != tc.want {
			t.Errorf("canonicalURI(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func TestCanonicalQuery(t *testing.T) {
	for _, tc := range []struct {
		raw       string
		presigned bool
		want      string
	}{
		{"", false, ""},
		{"b=2&a=1&a=0", false, "a=0&a=1&b=2"},
		{"Filter.1.Name=tag%3AName&Filter.1.Value.1=a+b&Filter.1.Value.2=c%20d", false,
			"Filter.1.Name=tag%3AName&Filter.1.Value.1=a%20b&Filter.1.Value.2=c%20d"},
		{"flag&x=", false, "flag=&x="},
		{"a=1&&b=2", false, "a=1&b=2"},
		{"X-Amz-Signature=abc&Action=X", false, "Action=X&X-Amz-Signature=abc"},
		{"X-Amz-Signature=abc&Action=X", true, "Action=X"},
		{"lower=1&Upper=2&_=3", false, "Upper=2&_=3&lower=1"},
	} {
		q, err := parseQuery(tc.raw)
		if err != nil {
			t.Fatalf("parseQuery(%q): %v", tc.raw, err)
		}
		if got := canonicalQuery(q, tc.presigned); got != tc.want {
			t.Errorf("canonicalQuery(%q, %v) = %q, want %q", tc.raw, tc.presigned, got, tc.want)
		}
	}
}

func TestCanonicalHeaderValue(t *testing.T) {
	r := &http.Request{Host: "example.com:8080", Header: http.Header{
		"X-Spaced": {"  a   b  c "},
		"X-Multi":  {"one", " two  words "},
		"X-Tab":    {"\tv\t"},
	}}
	for _, tc := range []struct{ name, want string }{
		{"host", "example.com:8080"},
		{"x-spaced", "a b c"},
		{"x-multi", "one,two words"},
		{"x-tab", "v"},
		{"x-absent", ""},
	} {
		if got := canonicalHeaderValue(r, tc.name); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}
