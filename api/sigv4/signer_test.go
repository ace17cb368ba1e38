package sigv4

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// Requests in these tests are signed by aws-sdk-go-v2's signer, then sent
// through the HTTP/1.1 wire format and parsed back as a server would see them.

const (
	keyID   = "AKIAIOSFODNN7EXAMPLE"
	secret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
	account = "123456789012"
	region  = "us-east-1"
	host    = "127.0.0.1:4566"
	form    = "Action=DescribeRegions&Version=2016-11-15"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

var keys = LookupFunc(func(_ context.Context, id string) (string, string, error) {
	if id == keyID {
		return secret, account, nil
	}
	return "", "", ErrUnknownKey
})

func hashHex(s string) string {
	sum := sha256.Sum256([]byte(s))
	return hex.EncodeToString(sum[:])
}

// signing describes a request to sign; zero fields take the defaults of a
// form-encoded EC2 POST signed at t0 with the test key.
type signing struct {
	method, target, body string
	keyID, secret        string
	at                   time.Time
	header               http.Header // set before signing, so signed when the signer signs them
	payloadHash          string
}

func (s signing) withDefaults() signing {
	if s.method == "" {
		s.method = http.MethodPost
	}
	if s.target == "" {
		s.target = "/"
	}
	if s.method == http.MethodPost && s.body == "" {
		s.body = form
	}
	if s.keyID == "" {
		s.keyID = keyID
	}
	if s.secret == "" {
		s.secret = secret
	}
	if s.at.IsZero() {
		s.at = t0
	}
	if s.payloadHash == "" {
		s.payloadHash = hashHex(s.body)
	}
	return s
}

func (s signing) clientRequest(t testing.TB) *http.Request {
	t.Helper()
	r, err := http.NewRequest(s.method, "http://"+host+s.target, strings.NewReader(s.body))
	if err != nil {
		t.Fatal(err)
	}
	if s.body != "" {
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	for k, v := range s.header {
		r.Header[k] = v
	}
	return r
}

// signHeader signs in the Authorization header.
func signHeader(t testing.TB, s signing) *http.Request {
	t.Helper()
	s = s.withDefaults()
	r := s.clientRequest(t)
	creds := aws.Credentials{AccessKeyID: s.keyID, SecretAccessKey: s.secret}
	if err := v4.NewSigner().SignHTTP(context.Background(), creds, r, s.payloadHash, "ec2", region, s.at); err != nil {
		t.Fatal(err)
	}
	return received(t, r)
}

// presign signs in the query string; expires 0 leaves X-Amz-Expires out.
func presign(t testing.TB, s signing, expires time.Duration) *http.Request {
	t.Helper()
	if s.method == "" {
		s.method, s.target = http.MethodGet, "/?"+form
	}
	s = s.withDefaults()
	r := s.clientRequest(t)
	if expires > 0 {
		q := r.URL.Query()
		q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
		r.URL.RawQuery = q.Encode()
	}
	creds := aws.Credentials{AccessKeyID: s.keyID, SecretAccessKey: s.secret}
	uri, hdr, err := v4.NewSigner().PresignHTTP(context.Background(), creds, r, s.payloadHash, "ec2", region, s.at)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(uri)
	if err != nil {
		t.Fatal(err)
	}
	r.URL = u
	for k, v := range hdr {
		r.Header[k] = v
	}
	return received(t, r)
}

// received sends r through the wire format and parses it as a server does.
func received(t testing.TB, r *http.Request) *http.Request {
	t.Helper()
	var buf bytes.Buffer
	if err := r.Write(&buf); err != nil {
		t.Fatal(err)
	}
	got, err := http.ReadRequest(bufio.NewReader(&buf))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func readBody(t testing.TB, r *http.Request) []byte {
	t.Helper()
	b, err := io.ReadAll(r.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// editAuth rewrites the Authorization header.
func editAuth(old, new string) func(*http.Request) {
	return func(r *http.Request) {
		r.Header.Set("Authorization", strings.Replace(r.Header.Get("Authorization"), old, new, 1))
	}
}

// editQuery rewrites the raw query string.
func editQuery(old, new string) func(*http.Request) {
	return func(r *http.Request) { r.URL.RawQuery = strings.Replace(r.URL.RawQuery, old, new, 1) }
}
