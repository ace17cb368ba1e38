package api

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"slices"
	"strconv"
	"strings"

	"kumo/api/ec2query"
)

// matchAll reports whether a resource passes every filter: filters are
// AND'ed, the values of one filter OR'ed, and values may hold the * and ?
// wildcards, as on EC2. fields gives, by filter name, the resource's values
// for it; a filter named otherwise is refused. Tag filters (tag:KEY,
// tag-key, tag-value) are fields like any other.
func matchAll(filters []ec2query.Filter, fields map[string]func() []string) (bool, error) {
	for _, f := range filters {
		get, ok := fields[f.Name]
		patterns := f.Values
		if key, isTag := strings.CutPrefix(f.Name, "tag:"); isTag && !ok {
			// fields["tag:"] gives KEY=VALUE pairs; match the filter's
			// values under its key.
			get, ok = fields["tag:"]
			patterns = make([]string, len(f.Values))
			for i, v := range f.Values {
				patterns[i] = key + "=" + v
			}
		}
		if !ok {
			return false, ec2query.InvalidParameterValue("The filter '%s' is invalid", f.Name)
		}
		if len(f.Values) == 0 {
			return false, ec2query.InvalidParameterValue("The filter '%s' has no value", f.Name)
		}
		if !anyMatches(patterns, get()) {
			return false, nil
		}
	}
	return true, nil
}

// value is a filter field with one value.
func value(s string) func() []string { return func() []string { return []string{s} } }

func anyMatches(patterns, values []string) bool {
	for _, p := range patterns {
		for _, v := range values {
			if wildcard(p, v) {
				return true
			}
		}
	}
	return false
}

// wildcard reports whether s matches p, in which * stands for any run of
// characters and ? for any one.
func wildcard(p, s string) bool {
	star, mark := -1, 0
	i, j := 0, 0
	for j < len(s) {
		switch {
		case i < len(p) && (p[i] == '?' || p[i] == s[j]):
			i++
			j++
		case i < len(p) && p[i] == '*':
			star, mark = i, j
			i++
		case star >= 0:
			mark++
			i, j = star+1, mark
		default:
			return false
		}
	}
	for i < len(p) && p[i] == '*' {
		i++
	}
	return i == len(p)
}

func itoa(n int) string { return strconv.Itoa(n) }

// page is where a paginated Describe starts and how much it returns.
type page struct {
	account string
	max     int    // 0: everything
	token   string // the NextToken given, or ""
	after   string // the key the previous page ended with
}

// pageTokens signs pagination tokens, so that a client can only continue
// a listing it was given, never start one anywhere it likes.
var pageTokens = func() []byte {
	k := make([]byte, 32)
	rand.Read(k)
	return k
}()

// readPage reads MaxResults (within EC2's bounds for the action) and
// NextToken.
func readPage(c *ec2Call, min, max int) (page, error) {
	n, _, err := c.req.OptionalInt("MaxResults", min, max)
	if err != nil {
		return page{}, err
	}
	p := page{account: c.account, max: n}
	tok, given := c.req.OptionalString("NextToken")
	if !given || tok == "" {
		return p, nil
	}
	after, ok := openToken(c.account, tok)
	if !ok {
		return page{}, ec2query.InvalidParameterValue("The NextToken is not valid.")
	}
	p.token, p.after = tok, after
	return p, nil
}

// paginate orders items by key and returns the page after p.after with the
// token for the next one, "" at the end. Keys are unique and stable (ids,
// names), so a page goes on where the last ended even if items came or went
// in between.
func paginate[T any](p page, items []T, key func(T) string) ([]T, string) {
	items = slices.Clone(items)
	slices.SortFunc(items, func(a, b T) int { return strings.Compare(key(a), key(b)) })
	start := 0
	if p.after != "" {
		start, _ = slices.BinarySearchFunc(items, p.after, func(t T, after string) int {
			if key(t) <= after {
				return -1
			}
			return 1
		})
	}
	items = items[start:]
	if p.max == 0 || len(items) <= p.max {
		return items, ""
	}
	items = items[:p.max]
	return items, sealToken(p.account, key(items[len(items)-1]))
}

// sealToken makes a token carrying the key a page ended with, bound to the
// account that asked.
func sealToken(account, after string) string {
	m := hmac.New(sha256.New, pageTokens)
	m.Write([]byte(account + "\x00" + after))
	return base64.RawURLEncoding.EncodeToString([]byte(after)) + "." + base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

func openToken(account, tok string) (string, bool) {
	body, sum, ok := strings.Cut(tok, ".")
	if !ok {
		return "", false
	}
	after, err1 := base64.RawURLEncoding.DecodeString(body)
	got, err2 := base64.RawURLEncoding.DecodeString(sum)
	if err1 != nil || err2 != nil || len(after) == 0 {
		return "", false
	}
	want, _ := base64.RawURLEncoding.DecodeString(strings.SplitN(sealToken(account, string(after)), ".", 2)[1])
	return string(after), hmac.Equal(got, want)
}
