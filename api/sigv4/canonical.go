package sigv4

import (
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
)

// param is one query parameter, decoded.
type param struct{ key, value string }

// parseQuery splits a raw query into decoded parameters, keeping repeats
// and their order. It is stricter than url.ParseQuery in one way only: a
// bad escape fails the request instead of dropping the parameter, because a
// parameter the verifier skips could still reach the handler.
func parseQuery(raw string) ([]param, *Error) {
	if raw == "" {
		return nil, nil
	}
	out := make([]param, 0, strings.Count(raw, "&")+1)
	for _, kv := range strings.Split(raw, "&") {
		if kv == "" {
			continue
		}
		k, v, _ := strings.Cut(kv, "=")
		dk, err1 := url.QueryUnescape(k)
		dv, err2 := url.QueryUnescape(v)
		if err1 != nil || err2 != nil {
			return nil, incomplete("The query string has a malformed percent-encoding.")
		}
		out = append(out, param{dk, dv})
	}
	return out, nil
}

// canonicalRequest builds the string whose hash is signed:
//
//	METHOD \n CanonicalURI \n CanonicalQuery \n CanonicalHeaders \n SignedHeaders \n PayloadHash
//
// where CanonicalHeaders ends with its own newline.
func canonicalRequest(r *http.Request, query []param, c *claim, payloadHash string) string {
	var b strings.Builder
	b.Grow(256 + len(r.URL.RawQuery))
	b.WriteString(r.Method)
	b.WriteByte('\n')
	b.WriteString(canonicalURI(r.URL.EscapedPath()))
	b.WriteByte('\n')
	b.WriteString(canonicalQuery(query, c.presigned))
	b.WriteByte('\n')
	for _, name := range c.headerNames {
		b.WriteString(name)
		b.WriteByte(':')
		b.WriteString(canonicalHeaderValue(r, name))
		b.WriteByte('\n')
	}
	b.WriteByte('\n')
	b.WriteString(c.signedHeaders)
	b.WriteByte('\n')
	b.WriteString(payloadHash)
	return b.String()
}

// canonicalURI normalizes the path as RFC 3986 does (no "." or ".."
// segments, no empty ones) and encodes the path as sent once more: every
// AWS service but S3 signs the path encoded twice.
func canonicalURI(escapedPath string) string {
	if escapedPath == "" || escapedPath == "/" {
		return "/"
	}
	var segs []string
	for _, s := range strings.Split(escapedPath, "/") {
		switch s {
		case "", ".":
		case "..":
			if len(segs) > 0 {
				segs = segs[:len(segs)-1]
			}
		default:
			segs = append(segs, s)
		}
	}
	p := "/" + strings.Join(segs, "/")
	last := escapedPath[strings.LastIndexByte(escapedPath, '/')+1:]
	if len(segs) > 0 && (last == "" || last == "." || last == "..") {
		p += "/"
	}
	return uriEncode(p, false)
}

// canonicalQuery encodes every parameter, sorts by name and then value, and
// leaves out the signature itself in the presigned form.
func canonicalQuery(query []param, presigned bool) string {
	if len(query) == 0 {
		return ""
	}
	enc := make([]param, 0, len(query))
	for _, p := range query {
		if presigned && p.key == qSignature {
			continue
		}
		enc = append(enc, param{uriEncode(p.key, true), uriEncode(p.value, true)})
	}
	slices.SortFunc(enc, func(a, b param) int {
		if c := strings.Compare(a.key, b.key); c != 0 {
			return c
		}
		return strings.Compare(a.value, b.value)
	})
	var b strings.Builder
	for i, p := range enc {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.key)
		b.WriteByte('=')
		b.WriteString(p.value)
	}
	return b.String()
}

// canonicalHeaderValue is the header's values, each trimmed with inner runs
// of spaces collapsed, joined by commas. A server-side request keeps Host
// out of its header map.
func canonicalHeaderValue(r *http.Request, name string) string {
	if name == "host" {
		return trimAll(r.Host)
	}
	vals := r.Header[textproto.CanonicalMIMEHeaderKey(name)]
	if len(vals) == 1 {
		return trimAll(vals[0])
	}
	out := make([]string, len(vals))
	for i, v := range vals {
		out[i] = trimAll(v)
	}
	return strings.Join(out, ",")
}

func trimAll(v string) string {
	v = strings.Trim(v, " \t")
	if !strings.Contains(v, "  ") {
		return v
	}
	var b strings.Builder
	space := false
	for i := 0; i < len(v); i++ {
		if v[i] == ' ' {
			if space {
				continue
			}
			space = true
		} else {
			space = false
		}
		b.WriteByte(v[i])
	}
	return b.String()
}

// uriEncode is AWS's UriEncode: every byte but the unreserved characters
// A-Z a-z 0-9 - _ . ~ becomes %XX with upper-case hex; "/" is kept when
// encoding a path.
func uriEncode(s string, encodeSlash bool) string {
	n := 0
	for i := 0; i < len(s); i++ {
		if !unreserved(s[i], encodeSlash) {
			n++
		}
	}
	if n == 0 {
		return s
	}
	const hexDigits = "0123456789ABCDEF"
	b := make([]byte, 0, len(s)+2*n)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if unreserved(c, encodeSlash) {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexDigits[c>>4], hexDigits[c&15])
	}
	return string(b)
}

func unreserved(c byte, encodeSlash bool) bool {
	switch {
	case 'A' <= c && c <= 'Z', 'a' <= c && c <= 'z', '0' <= c && c <= '9':
		return true
	case c == '-' || c == '_' || c == '.' || c == '~':
		return true
	case c == '/':
		return !encodeSlash
	}
	return false
}
