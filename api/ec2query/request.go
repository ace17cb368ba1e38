package ec2query

import (
	"encoding/base64"
	"io"
	"maps"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Version is the only API version served. Every EC2 client of the last
// decade sends it.
const Version = "2016-11-15"

// Request is one decoded request: its action and its flattened parameters,
// read through typed accessors. The accessors remember every name they
// looked at, so that Unused can list what the action ignored: EC2 refuses
// such a request with UnknownParameter instead of dropping a misspelt
// parameter, and so must its callers.
//
// Every error a Request returns is an *Error.
type Request struct {
	Action string
	// Version is the API version the request names: Version, unless
	// ParseFor was given others.
	Version string
	// Body is the form body exactly as read, for signature verification,
	// which hashes these bytes; Parse has consumed the http.Request's own.
	Body []byte

	params map[string]string
	// keys holds the parameter names in order, so that a list's members are
	// found by binary search and errors do not depend on map order.
	keys []string
	used map[string]bool
}

// Parse reads the parameters of r from its URL query and, for a POST, from
// its form-encoded body of at most maxBody bytes. GET is accepted as EC2
// accepts it; every SDK and the CLI POST. A parameter given twice, even once
// in each place, is refused: which one would win is not defined.
//
// Parse checks Action and Version and marks them read.
func Parse(r *http.Request, maxBody int64) (*Request, error) {
	return ParseFor(r, maxBody, Version)
}

// ParseFor is Parse for a listener that serves several query APIs with
// this encoding on one path, told apart only by their Version: the request
// may name any of versions, and Request.Version says which it named.
func ParseFor(r *http.Request, maxBody int64, versions ...string) (*Request, error) {
	if r.Method != http.MethodPost && r.Method != http.MethodGet {
		return nil, methodNotAllowed(r.Method)
	}
	req := &Request{params: map[string]string{}, used: map[string]bool{}}
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, malformedQueryString("The query string is malformed: %v", err)
	}
	if err := req.add(query); err != nil {
		return nil, err
	}
	if r.Method == http.MethodPost {
		if req.Body, err = readBody(r, maxBody); err != nil {
			return nil, err
		}
		if len(req.Body) > 0 {
			if err := checkContentType(r.Header.Get("Content-Type")); err != nil {
				return nil, err
			}
			form, err := url.ParseQuery(string(req.Body))
			if err != nil {
				return nil, malformedQueryString("The request body is malformed: %v", err)
			}
			if err := req.add(form); err != nil {
				return nil, err
			}
		}
	}
	req.keys = slices.Sorted(maps.Keys(req.params))

	action, _ := req.lookup("Action")
	if action == "" {
		return nil, MissingAction()
	}
	if !validAction(action) {
		return nil, InvalidAction(action)
	}
	req.Action = action
	version, _ := req.lookup("Version")
	switch {
	case version == "":
		return nil, MissingParameter("Version")
	case !slices.Contains(versions, version):
		return nil, noSuchVersion(version)
	}
	req.Version = version
	return req, nil
}

func readBody(r *http.Request, maxBody int64) ([]byte, error) {
	if r.ContentLength > maxBody {
		return nil, requestTooLarge(maxBody)
	}
	if r.Body == nil {
		return nil, nil
	}
	body, err := io.ReadAll(io.LimitReader(r.Body, maxBody+1))
	if err != nil {
		return nil, malformedQueryString("The request body could not be read: %v", err)
	}
	if int64(len(body)) > maxBody {
		return nil, requestTooLarge(maxBody)
	}
	return body, nil
}

// checkContentType accepts a form, in UTF-8 if a charset is named. A missing
// Content-Type is taken as a form: the body can be nothing else here.
func checkContentType(ct string) error {
	if ct == "" {
		return nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-www-form-urlencoded" {
		return unsupportedMediaType(ct)
	}
	for k, v := range params {
		if k != "charset" || !strings.EqualFold(v, "utf-8") {
			return unsupportedMediaType(ct)
		}
	}
	return nil
}

func (r *Request) add(values url.Values) error {
	for _, k := range slices.Sorted(maps.Keys(values)) {
		vs := values[k]
		if k == "" {
			return malformedQueryString("A parameter has no name")
		}
		if !utf8.ValidString(k) {
			return invalidCharacter("A parameter name is not valid UTF-8")
		}
		if _, dup := r.params[k]; dup || len(vs) > 1 {
			return InvalidParameterValue("The parameter %s is given more than once", k)
		}
		if !utf8.ValidString(vs[0]) {
			return invalidCharacter("The value of parameter %s is not valid UTF-8", k)
		}
		r.params[k] = vs[0]
	}
	return nil
}

// validAction keeps the action to what can name an XML element, since the
// response's root element is named after it.
func validAction(s string) bool {
	if s == "" || len(s) > 128 {
		return false
	}
	for _, c := range []byte(s) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9') {
			return false
		}
	}
	return 'A' <= s[0] && s[0] <= 'Z'
}

func (r *Request) lookup(name string) (string, bool) {
	r.used[name] = true
	v, ok := r.params[name]
	return v, ok
}

// String returns a required parameter. An empty value counts as missing.
func (r *Request) String(name string) (string, error) {
	v, _ := r.lookup(name)
	if v == "" {
		return "", MissingParameter(name)
	}
	return v, nil
}

// OptionalString returns a parameter and whether it was given, even empty.
func (r *Request) OptionalString(name string) (string, bool) {
	return r.lookup(name)
}

// Int returns a required integer parameter within [min, max].
func (r *Request) Int(name string, min, max int) (int, error) {
	v, ok, err := r.OptionalInt(name, min, max)
	if err == nil && !ok {
		err = MissingParameter(name)
	}
	return v, err
}

// OptionalInt returns an integer parameter within [min, max] and whether it
// was given.
func (r *Request) OptionalInt(name string, min, max int) (int, bool, error) {
	s, ok := r.lookup(name)
	if !ok {
		return 0, false, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < min || n > max {
		return 0, true, InvalidParameterValue("Value (%s) for parameter %s is invalid. Expected an integer from %d to %d.",
			clip(s), name, min, max)
	}
	return n, true, nil
}

// Bool returns a boolean parameter, false when absent. Only true and false
// are accepted, in any case, as EC2 does; botocore sends them lowercase.
func (r *Request) Bool(name string) (bool, error) {
	s, ok := r.lookup(name)
	switch {
	case !ok:
		return false, nil
	case strings.EqualFold(s, "true"):
		return true, nil
	case strings.EqualFold(s, "false"):
		return false, nil
	}
	return false, InvalidParameterValue("Value (%s) for parameter %s is invalid. Expected true or false.", clip(s), name)
}

// Blob decodes a base64 parameter (UserData, PublicKeyMaterial), nil when
// absent. Padding must be right and no stray bits are allowed; line breaks,
// which base64 tools insert, are skipped.
func (r *Request) Blob(name string) ([]byte, error) {
	s, ok := r.lookup(name)
	if !ok {
		return nil, nil
	}
	b, err := base64.StdEncoding.Strict().DecodeString(s)
	if err != nil {
		return nil, InvalidParameterValue("Invalid BASE64 encoding of %s.", name)
	}
	return b, nil
}

// Unused lists, in order, the parameters that no accessor has read.
func (r *Request) Unused() []string {
	var out []string
	for _, k := range r.keys {
		if !r.used[k] {
			out = append(out, k)
		}
	}
	return out
}

// clip shortens a value quoted back in an error message, which need not
// carry a whole request body.
func clip(s string) string {
	const max = 64
	if len(s) <= max {
		return s
	}
	cut := max
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "..."
}
