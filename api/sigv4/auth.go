package sigv4

import (
	"encoding/hex"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
)

const (
	algorithm  = "AWS4-HMAC-SHA256"
	terminator = "aws4_request"
	// The signing time is ISO 8601 basic, always UTC.
	timeLayout = "20060102T150405Z"
	dateLayout = "20060102"
)

// Query parameters of the presigned form.
const (
	qAlgorithm     = "X-Amz-Algorithm"
	qCredential    = "X-Amz-Credential"
	qDate          = "X-Amz-Date"
	qSignedHeaders = "X-Amz-SignedHeaders"
	qSignature     = "X-Amz-Signature"
	qExpires       = "X-Amz-Expires"
)

// claim is what a request says about its own signature, parsed and checked
// for shape but not yet verified.
type claim struct {
	presigned     bool
	accessKeyID   string
	region        string
	service       string
	scope         string // date/region/service/aws4_request
	signedHeaders string // as sent: it is part of the canonical request
	headerNames   []string
	signature     []byte
	amzDate       string // the signing time as sent
	signingTime   time.Time
	expires       time.Duration // presigned form only; 0 when not given
}

// parseClaim finds the signature in the Authorization header or the query,
// never both.
func parseClaim(r *http.Request, query []param) (*claim, *Error) {
	authz := r.Header.Values("Authorization")
	inQuery := false
	for _, p := range query {
		if p.key == qAlgorithm || p.key == qCredential || p.key == qSignature {
			inQuery = true
			break
		}
	}
	switch {
	case len(authz) > 0 && inQuery:
		return nil, incomplete("The request is signed both in the Authorization header and in the query string; use one.")
	case len(authz) > 1:
		return nil, incomplete("The request has more than one Authorization header.")
	case len(authz) == 1:
		return parseHeaderClaim(r, authz[0])
	case inQuery:
		return parseQueryClaim(query)
	}
	return nil, errNoAuth
}

// parseHeaderClaim reads
// "AWS4-HMAC-SHA256 Credential=AKID/DATE/REGION/SERVICE/aws4_request, SignedHeaders=a;b, Signature=hex".
func parseHeaderClaim(r *http.Request, authz string) (*claim, *Error) {
	alg, rest, _ := strings.Cut(strings.TrimSpace(authz), " ")
	if alg != algorithm {
		return nil, incomplete("Only %s signatures are accepted in the Authorization header.", algorithm)
	}
	parts := map[string]string{}
	for _, f := range strings.Split(rest, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(f), "=")
		if !ok || v == "" {
			return nil, incomplete("The Authorization header has a malformed component; it needs Credential=, SignedHeaders= and Signature=.")
		}
		if _, dup := parts[k]; dup {
			return nil, incomplete("The Authorization header repeats %s.", k)
		}
		parts[k] = v
	}
	var missing []string
	for _, k := range []string{"Credential", "SignedHeaders", "Signature"} {
		if parts[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, incomplete("The Authorization header requires the %s parameter(s).", strings.Join(missing, ", "))
	}
	if len(parts) > 3 {
		return nil, incomplete("The Authorization header has components other than Credential, SignedHeaders and Signature.")
	}
	c := &claim{}
	if err := c.setCredential(parts["Credential"]); err != nil {
		return nil, err
	}
	if err := c.setSignedHeaders(parts["SignedHeaders"]); err != nil {
		return nil, err
	}
	if err := c.setSignature(parts["Signature"]); err != nil {
		return nil, err
	}
	// X-Amz-Date wins over Date when both are sent; whichever is used must
	// be one of the signed headers.
	dateHeader := "x-amz-date"
	date := r.Header.Get("X-Amz-Date")
	if date == "" {
		dateHeader, date = "date", r.Header.Get("Date")
	}
	if date == "" {
		return nil, incomplete("The request must carry its signing time in the X-Amz-Date header (or Date, in ISO 8601 basic format).")
	}
	if !slices.Contains(c.headerNames, dateHeader) {
		return nil, incomplete("The %s header must be one of the signed headers.", dateHeader)
	}
	if err := c.setDate(date); err != nil {
		return nil, err
	}
	return c, nil
}

func parseQueryClaim(query []param) (*claim, *Error) {
	vals := map[string]string{}
	for _, p := range query {
		switch p.key {
		case qAlgorithm, qCredential, qDate, qSignedHeaders, qSignature, qExpires:
			if _, dup := vals[p.key]; dup {
				return nil, incomplete("The query string repeats %s.", p.key)
			}
			vals[p.key] = p.value
		}
	}
	var missing []string
	for _, k := range []string{qAlgorithm, qCredential, qDate, qSignedHeaders, qSignature} {
		if vals[k] == "" {
			missing = append(missing, k)
		}
	}
	if len(missing) > 0 {
		return nil, incomplete("A presigned request requires the query parameter(s) %s.", strings.Join(missing, ", "))
	}
	if vals[qAlgorithm] != algorithm {
		return nil, incomplete("%s must be %s.", qAlgorithm, algorithm)
	}
	c := &claim{presigned: true}
	if err := c.setCredential(vals[qCredential]); err != nil {
		return nil, err
	}
	if err := c.setSignedHeaders(vals[qSignedHeaders]); err != nil {
		return nil, err
	}
	if err := c.setSignature(vals[qSignature]); err != nil {
		return nil, err
	}
	if err := c.setDate(vals[qDate]); err != nil {
		return nil, err
	}
	if v, ok := vals[qExpires]; ok {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > int(MaxPresignExpiry/time.Second) {
			return nil, incomplete("%s must be a number of seconds from 1 to %d.", qExpires, int(MaxPresignExpiry/time.Second))
		}
		c.expires = time.Duration(n) * time.Second
	}
	return c, nil
}

// setCredential reads AKID/DATE/REGION/SERVICE/aws4_request. The scope date
// is checked against the signing time in setDate.
func (c *claim) setCredential(v string) *Error {
	parts := strings.Split(v, "/")
	if len(parts) != 5 || slices.Contains(parts, "") {
		return incomplete("The credential must be ACCESS_KEY_ID/YYYYMMDD/REGION/SERVICE/%s.", terminator)
	}
	if parts[4] != terminator {
		return incomplete("The credential scope must end in %s.", terminator)
	}
	if _, err := time.Parse(dateLayout, parts[1]); err != nil {
		return incomplete("The credential scope date must be YYYYMMDD.")
	}
	c.accessKeyID, c.region, c.service = parts[0], parts[2], parts[3]
	c.scope = v[len(parts[0])+1:]
	return nil
}

// setSignedHeaders takes the names as listed: the canonical request uses
// them in that order, as the signer did.
func (c *claim) setSignedHeaders(v string) *Error {
	names := strings.Split(v, ";")
	seen := make(map[string]bool, len(names))
	for _, n := range names {
		if n == "" || n != strings.ToLower(n) || seen[n] {
			return incomplete("SignedHeaders must be distinct lower-case header names separated by ';'.")
		}
		seen[n] = true
	}
	if !seen["host"] {
		return incomplete("The host header must be one of the signed headers.")
	}
	c.signedHeaders, c.headerNames = v, names
	return nil
}

func (c *claim) setSignature(v string) *Error {
	sig, err := hex.DecodeString(v)
	if err != nil || len(sig) != 32 {
		return incomplete("The signature must be 64 hexadecimal digits.")
	}
	c.signature = sig
	return nil
}

func (c *claim) setDate(v string) *Error {
	t, err := time.Parse(timeLayout, v)
	if err != nil {
		return incomplete("The signing time %q is not in ISO 8601 basic format (YYYYMMDD'T'HHMMSS'Z').", v)
	}
	if scopeDate, _, _ := strings.Cut(c.scope, "/"); scopeDate != v[:8] {
		return incomplete("The date in the credential scope (%s) does not match the signing time (%s).", scopeDate, v)
	}
	c.amzDate, c.signingTime = v, t
	return nil
}
