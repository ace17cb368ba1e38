package sigv4

import (
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

type verifyCase struct {
	name string
	req  func(t *testing.T) *http.Request
	edit func(*http.Request) // applied to the request as received
	now  time.Time           // t0 when zero
	code string              // the expected error code; "" means it verifies
}

func runVerify(t *testing.T, cases []verifyCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := tc.req(t)
			if tc.edit != nil {
				tc.edit(r)
			}
			now := tc.now
			if now.IsZero() {
				now = t0
			}
			id, err := Verify(r, readBody(t, r), now, keys)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("Verify: %v", err)
				}
				if id.AccessKeyID != keyID || id.Account != account || id.Region != region || id.Service != "ec2" || len(id.Signature) != 64 {
					t.Fatalf("identity %+v", id)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("Verify: %v, want *Error %s", err, tc.code)
			}
			if e.Code != tc.code {
				t.Fatalf("code %s (%s), want %s", e.Code, e.Message, tc.code)
			}
			if strings.Contains(e.Message, secret) {
				t.Fatalf("message leaks the secret: %s", e.Message)
			}
		})
	}
}

func header(s signing) func(t *testing.T) *http.Request {
	return func(t *testing.T) *http.Request { return signHeader(t, s) }
}

func TestVerifyHeader(t *testing.T) {
	get := signing{method: http.MethodGet, target: "/?" + form}
	setBody := func(b string) func(*http.Request) {
		return func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader(b)) }
	}
	runVerify(t, []verifyCase{
		{name: "good", req: header(signing{})},
		{name: "good GET with query", req: header(get)},
		{name: "signed 15 min ago", req: header(signing{at: t0.Add(-MaxSkew)})},
		{name: "signed 15 min ahead", req: header(signing{at: t0.Add(MaxSkew)})},
		{name: "unsigned header added", req: header(signing{}), edit: func(r *http.Request) { r.Header.Set("X-Forwarded-For", "10.0.0.1") }},
		{name: "signed content sha256", req: header(signing{header: http.Header{"X-Amz-Content-Sha256": {hashHex(form)}}})},

		{name: "wrong secret", req: header(signing{secret: "not-the-secret-at-all-0000000000000000000"}), code: CodeSignatureDoesNotMatch},
		{name: "unknown key", req: header(signing{keyID: "AKIAUNKNOWNUNKNOWN00"}), code: CodeAuthFailure},
		{name: "signed 16 min ago", req: header(signing{at: t0.Add(-16 * time.Minute)}), code: CodeRequestExpired},
		{name: "signed 16 min ahead", req: header(signing{at: t0.Add(16 * time.Minute)}), code: CodeRequestExpired},
		{name: "replayed within window", req: header(signing{}), now: t0.Add(10 * time.Minute)},
		{name: "replayed outside window", req: header(signing{}), now: t0.Add(16 * time.Minute), code: CodeRequestExpired},
		{name: "tampered body", req: header(signing{}), edit: setBody("Action=TerminateInstances&Version=2016-11-15&InstanceId.1=i-1"), code: CodeSignatureDoesNotMatch},
		{name: "tampered query parameter", req: header(get), edit: editQuery("DescribeRegions", "DescribeInstances"), code: CodeSignatureDoesNotMatch},
		{name: "query parameter added", req: header(get), edit: editQuery("Action", "DryRun=true&Action"), code: CodeSignatureDoesNotMatch},
		{name: "query added to a POST", req: header(signing{}), edit: editQuery("", "DryRun=true"), code: CodeSignatureDoesNotMatch},
		{name: "tampered signed header", req: header(signing{}), edit: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, code: CodeSignatureDoesNotMatch},
		{name: "tampered host", req: header(signing{}), edit: func(r *http.Request) { r.Host = "127.0.0.1:4567" }, code: CodeSignatureDoesNotMatch},
		{name: "tampered content sha256", req: header(signing{header: http.Header{"X-Amz-Content-Sha256": {hashHex(form)}}}),
			edit: setBody(form + "&DryRun=true"), code: CodeSignatureDoesNotMatch},
		{name: "unsigned payload in header form", req: header(signing{payloadHash: UnsignedPayload, header: http.Header{"X-Amz-Content-Sha256": {UnsignedPayload}}}), code: CodeIncompleteSignature},
		{name: "tampered signature", req: header(signing{}), edit: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			last := "0"
			if strings.HasSuffix(a, "0") {
				last = "1"
			}
			r.Header.Set("Authorization", a[:len(a)-1]+last)
		}, code: CodeSignatureDoesNotMatch},

		{name: "no authentication", req: header(signing{}), edit: func(r *http.Request) { r.Header.Del("Authorization") }, code: CodeMissingAuthenticationToken},
		{name: "other scheme", req: header(signing{}), edit: func(r *http.Request) { r.Header.Set("Authorization", "Bearer abc") }, code: CodeIncompleteSignature},
		{name: "other algorithm", req: header(signing{}), edit: editAuth("AWS4-HMAC-SHA256", "AWS4-ECDSA-P256-SHA256"), code: CodeIncompleteSignature},
		{name: "algorithm only", req: header(signing{}), edit: func(r *http.Request) { r.Header.Set("Authorization", "AWS4-HMAC-SHA256") }, code: CodeIncompleteSignature},
		{name: "no signature", req: header(signing{}), edit: func(r *http.Request) {
			a := r.Header.Get("Authorization")
			r.Header.Set("Authorization", a[:strings.Index(a, ", Signature=")])
		}, code: CodeIncompleteSignature},
		{name: "no signed headers", req: header(signing{}), edit: editAuth("SignedHeaders=", "Signed="), code: CodeIncompleteSignature},
		{name: "no credential", req: header(signing{}), edit: editAuth("Credential=", "Cred="), code: CodeIncompleteSignature},
		{name: "repeated component", req: header(signing{}), edit: editAuth(", Signature=", ", Signature=00, Signature="), code: CodeIncompleteSignature},
		{name: "short credential", req: header(signing{}), edit: editAuth("/us-east-1/", "/"), code: CodeIncompleteSignature},
		{name: "bad terminator", req: header(signing{}), edit: editAuth("/aws4_request", "/aws5_request"), code: CodeIncompleteSignature},
		{name: "signature not hex", req: header(signing{}), edit: editAuth("Signature=", "Signature=zz"), code: CodeIncompleteSignature},
		{name: "upper-case signed header", req: header(signing{}), edit: editAuth("host", "Host"), code: CodeIncompleteSignature},
		{name: "missing X-Amz-Date", req: header(signing{}), edit: func(r *http.Request) { r.Header.Del("X-Amz-Date") }, code: CodeIncompleteSignature},
		{name: "garbled X-Amz-Date", req: header(signing{}), edit: func(r *http.Request) { r.Header.Set("X-Amz-Date", "2026-03-04T05:06:07Z") }, code: CodeIncompleteSignature},
		{name: "host not signed", req: header(signing{}), edit: editAuth("content-type;host;", "content-type;"), code: CodeIncompleteSignature},
		{name: "date not signed", req: header(signing{}), edit: editAuth(";x-amz-date", ""), code: CodeIncompleteSignature},
		{name: "scope date mismatch", req: header(signing{}), edit: editAuth("/20260304/", "/20260303/"), code: CodeIncompleteSignature},
		{name: "signed both ways", req: header(signing{}), edit: func(r *http.Request) { r.URL.RawQuery = "X-Amz-Signature=00" }, code: CodeIncompleteSignature},
	})
}

func TestVerifyPresigned(t *testing.T) {
	signed := func(s signing, expires time.Duration) func(t *testing.T) *http.Request {
		return func(t *testing.T) *http.Request { return presign(t, s, expires) }
	}
	unsigned := signing{method: http.MethodPost, target: "/?Action=DescribeRegions&Version=2016-11-15", body: "anything",
		payloadHash: UnsignedPayload}
	runVerify(t, []verifyCase{
		{name: "good", req: signed(signing{}, 5*time.Minute)},
		{name: "before expiry", req: signed(signing{}, 5*time.Minute), now: t0.Add(5 * time.Minute)},
		{name: "expiry longer than the skew window", req: signed(signing{}, time.Hour), now: t0.Add(59 * time.Minute)},
		{name: "no expiry given, within window", req: signed(signing{}, 0), now: t0.Add(MaxSkew)},
		{name: "seven days", req: signed(signing{}, MaxPresignExpiry), now: t0.Add(MaxPresignExpiry)},
		{name: "unsigned payload", req: signed(unsigned, time.Minute), edit: func(r *http.Request) { r.Header.Set("X-Amz-Content-Sha256", UnsignedPayload) }},

		{name: "expired", req: signed(signing{}, 5*time.Minute), now: t0.Add(5*time.Minute + time.Second), code: CodeRequestExpired},
		{name: "no expiry given, outside window", req: signed(signing{}, 0), now: t0.Add(16 * time.Minute), code: CodeRequestExpired},
		{name: "signed 16 min ahead", req: signed(signing{at: t0.Add(16 * time.Minute)}, time.Hour), code: CodeRequestExpired},
		{name: "expiry over seven days", req: signed(signing{}, MaxPresignExpiry+time.Second), code: CodeIncompleteSignature},
		{name: "wrong secret", req: signed(signing{secret: "not-the-secret-at-all-0000000000000000000"}, time.Minute), code: CodeSignatureDoesNotMatch},
		{name: "unknown key", req: signed(signing{keyID: "AKIAUNKNOWNUNKNOWN00"}, time.Minute), code: CodeAuthFailure},
		{name: "tampered query parameter", req: signed(signing{}, time.Minute), edit: editQuery("DescribeRegions", "DescribeInstances"), code: CodeSignatureDoesNotMatch},
		{name: "query parameter added", req: signed(signing{}, time.Minute), edit: editQuery("Action=", "DryRun=true&Action="), code: CodeSignatureDoesNotMatch},
		{name: "expiry extended", req: signed(signing{}, time.Minute), edit: editQuery("X-Amz-Expires=60", "X-Amz-Expires=600"), code: CodeSignatureDoesNotMatch},
		{name: "tampered host", req: signed(signing{}, time.Minute), edit: func(r *http.Request) { r.Host = "localhost:4566" }, code: CodeSignatureDoesNotMatch},
		{name: "unsigned payload not declared", req: signed(unsigned, time.Minute), code: CodeSignatureDoesNotMatch},
		{name: "missing date", req: signed(signing{}, time.Minute), edit: editQuery("X-Amz-Date=", "X-Amz-Datum="), code: CodeIncompleteSignature},
		{name: "missing signature", req: signed(signing{}, time.Minute), edit: editQuery("X-Amz-Signature=", "X-Amz-Sig="), code: CodeIncompleteSignature},
		{name: "repeated signature", req: signed(signing{}, time.Minute), edit: editQuery("X-Amz-Signature=", "X-Amz-Signature=00&X-Amz-Signature="), code: CodeIncompleteSignature},
		{name: "host not signed", req: signed(signing{}, time.Minute), edit: editQuery("X-Amz-SignedHeaders=host", "X-Amz-SignedHeaders=x-foo"), code: CodeIncompleteSignature},
		{name: "scope date mismatch", req: signed(signing{}, time.Minute), edit: editQuery("%2F20260304%2F", "%2F20260305%2F"), code: CodeIncompleteSignature},
		{name: "bad percent-encoding", req: signed(signing{}, time.Minute), edit: editQuery("Action=", "Action=%zz"), code: CodeIncompleteSignature},
	})
}

// The Date header may carry the signing time instead of X-Amz-Date, in the
// same ISO 8601 basic format. The SDK always sends X-Amz-Date, so this
// request is signed here.
func TestVerifyDateHeader(t *testing.T) {
	r := signHeader(t, signing{})
	r.Header.Del("X-Amz-Date")
	r.Header.Set("Date", "20260304T050607Z")
	c := &claim{}
	for _, err := range []*Error{
		c.setCredential(keyID + "/20260304/us-east-1/ec2/aws4_request"),
		c.setSignedHeaders("content-length;content-type;date;host"),
		c.setDate("20260304T050607Z"),
	} {
		if err != nil {
			t.Fatal(err)
		}
	}
	sig := signature(secret, c, canonicalRequest(r, nil, c, hashHex(form)))
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential="+keyID+"/"+c.scope+", SignedHeaders="+c.signedHeaders+", Signature="+hex.EncodeToString(sig))
	if _, err := Verify(r, readBody(t, r), t0, keys); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyLookupFailure(t *testing.T) {
	broken := errors.New("database is locked")
	lookup := LookupFunc(func(context.Context, string) (string, string, error) { return "", "", broken })
	r := signHeader(t, signing{})
	_, err := Verify(r, readBody(t, r), t0, lookup)
	var e *Error
	if !errors.Is(err, broken) || errors.As(err, &e) {
		t.Fatalf("Verify: %v, want the lookup's own error, not an *Error", err)
	}
}

func TestVerifyStreamed(t *testing.T) {
	unsigned := signing{payloadHash: UnsignedPayload, header: http.Header{"X-Amz-Content-Sha256": {UnsignedPayload}}}
	cases := []struct {
		name string
		s    signing
		edit func(*http.Request)
		code string
	}{
		{name: "unsigned payload", s: unsigned},
		{name: "any body goes", s: unsigned, edit: func(r *http.Request) { r.Body = io.NopCloser(strings.NewReader("other bytes")) }},
		{name: "body hash instead", s: signing{header: http.Header{"X-Amz-Content-Sha256": {hashHex(form)}}}, code: CodeIncompleteSignature},
		{name: "no content hash", s: signing{}, code: CodeIncompleteSignature},
		{name: "tampered path", s: unsigned, edit: func(r *http.Request) { r.URL.Path = "/elsewhere" }, code: CodeSignatureDoesNotMatch},
		{name: "wrong secret", s: signing{payloadHash: UnsignedPayload, secret: "not-the-secret-at-all-0000000000000000000",
			header: http.Header{"X-Amz-Content-Sha256": {UnsignedPayload}}}, code: CodeSignatureDoesNotMatch},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := signHeader(t, tc.s)
			if tc.edit != nil {
				tc.edit(r)
			}
			id, err := VerifyStreamed(r, t0, keys)
			if tc.code == "" {
				if err != nil || id.Account != account {
					t.Fatalf("VerifyStreamed: %+v, %v", id, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("VerifyStreamed: %v, want %s", err, tc.code)
			}
		})
	}
}
