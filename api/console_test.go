package api

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"kumo/accounts"
	"kumo/api/sigv4"
	"kumo/api/wire"
	"kumo/internal/clock"
	"kumo/store"
	"kumo/web"
	"kumo/web/session"
)

// consoleAPI is the API with the console on, over a real accounts
// service: two accounts with a key each, and sessions signed by a key in
// the test's data dir.
type consoleAPI struct {
	srv        *httptest.Server
	imageID    string
	alice, bob accounts.NewAccessKey
}

func newConsoleAPI(t *testing.T, opts Options) *consoleAPI {
	t.Helper()
	ctx := context.Background()
	dir := t.TempDir()
	st, err := store.Open(ctx, filepath.Join(dir, "accounts.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	accts, err := accounts.Open(ctx, st, dir, clock.Real{})
	if err != nil {
		t.Fatal(err)
	}
	c := &consoleAPI{}
	for _, k := range []struct {
		name string
		key  *accounts.NewAccessKey
	}{{"alice", &c.alice}, {"bob", &c.bob}} {
		a, err := accts.CreateAccount(ctx, k.name)
		if err != nil {
			t.Fatal(err)
		}
		if *k.key, err = accts.CreateAccessKey(ctx, a.ID); err != nil {
			t.Fatal(err)
		}
	}
	if opts.Sessions, err = session.Open(dir, accts, clock.Real{}); err != nil {
		t.Fatal(err)
	}
	opts.MaxUpload = 1 << 20
	opts.RESTAuth = unsigned{}
	c.srv, c.imageID, _ = newTestAPIWith(t, opts)
	return c
}

// unsigned stands in for SigV4 verification, which has its own tests: it
// finds no signature on any request.
type unsigned struct{}

func (unsigned) AuthenticateREST(*http.Request, []byte, bool) (Caller, error) {
	return Caller{}, &sigv4.Error{Code: sigv4.CodeMissingAuthenticationToken, Message: "no signature"}
}

// browser is a client with a cookie jar that does not follow redirects,
// so tests see them.
type browser struct {
	t    *testing.T
	base string
	http *http.Client
	csrf string // the token the last page carried
}

func (c *consoleAPI) browser(t *testing.T) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: c.srv.URL, http: &http.Client{Jar: jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

var (
	formTokenRE = regexp.MustCompile(`name="form_token" value="([^"]+)"`)
	csrfRE      = regexp.MustCompile(`<meta name="csrf-token" content="([^"]*)">`)
)

// do sends a request and answers its status, Location and body.
func (b *browser) do(method, path string, body io.Reader, header map[string]string) (int, string, string) {
	b.t.Helper()
	req, _ := http.NewRequest(method, b.base+path, body)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := b.http.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if m := csrfRE.FindSubmatch(data); m != nil {
		b.csrf = string(m[1])
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(data)
}

func (b *browser) submit(path string, form url.Values) (int, string, string) {
	b.t.Helper()
	return b.do("POST", path, strings.NewReader(form.Encode()),
		map[string]string{"Content-Type": "application/x-www-form-urlencoded"})
}

// signInForm fills the sign-in form as a person would.
func (b *browser) signInForm(id, secret, next string) (int, string, string) {
	b.t.Helper()
	status, _, page := b.do("GET", "/signin", nil, nil)
	m := formTokenRE.FindStringSubmatch(page)
	if status != 200 || m == nil {
		b.t.Fatalf("sign-in page: %d %s", status, page)
	}
	return b.submit("/signin", url.Values{"form_token": {m[1]}, "next": {next},
		"access_key_id": {id}, "secret_access_key": {secret}})
}

func (b *browser) signIn(key accounts.NewAccessKey) {
	b.t.Helper()
	if status, loc, body := b.signInForm(key.ID, key.Secret, "/"); status != http.StatusSeeOther || loc != "/" {
		b.t.Fatalf("sign in: %d %q %s", status, loc, body)
	}
	if status, _, _ := b.do("GET", "/", nil, nil); status != 200 || b.csrf == "" {
		b.t.Fatalf("overview after sign-in: %d, csrf %q", status, b.csrf)
	}
}

// api calls the REST API with the session's CSRF token, or with token
// when it is not nil.
func (b *browser) api(method, path string, body any, token *string, out any) int {
	b.t.Helper()
	h := map[string]string{CSRFHeader: b.csrf}
	if token != nil {
		h = map[string]string{CSRFHeader: *token}
		if *token == "" {
			h = nil
		}
	}
	var r io.Reader
	if body != nil {
		data, _ := json.Marshal(body)
		r = strings.NewReader(string(data))
		if h == nil {
			h = map[string]string{}
		}
		h["Content-Type"] = "application/json"
	}
	status, _, data := b.do(method, "/api/v1"+path, r, h)
	if out != nil {
		if err := json.Unmarshal([]byte(data), out); err != nil {
			b.t.Fatalf("%s %s: %d %s", method, path, status, data)
		}
	}
	return status
}

func (c *consoleAPI) launch(t *testing.T, b *browser) string {
	t.Helper()
	var out wire.Instances
	if code := b.api("POST", "/instances", map[string]any{"image": c.imageID, "type": "t2.micro"}, nil, &out); code != http.StatusCreated {
		t.Fatalf("launch: %d", code)
	}
	return out.Instances[0].ID
}

var consolePages = []string{"/", "/instances", "/instances/i-0123456789abcdef0", "/launch", "/images", "/load-balancers", "/hosts"}

func TestConsolePagesSendToSignInWithoutASession(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	b := c.browser(t)
	for _, p := range append(consolePages, "/instances?state=running") {
		status, loc, _ := b.do("GET", p, nil, nil)
		if status != http.StatusFound || loc != "/signin?next="+url.QueryEscape(p) {
			t.Errorf("GET %s: %d to %q", p, status, loc)
		}
	}
	if status, loc, _ := b.do("GET", "/instances", nil, map[string]string{"Cookie": session.CookieName + "=forged.value"}); status != http.StatusFound {
		t.Errorf("a forged cookie: %d to %q", status, loc)
	}
	if status, _, _ := b.do("GET", "/static/"+web.StaticVersion+"/console.css", nil, nil); status != 200 {
		t.Errorf("the style sheet needs a session: %d", status)
	}
	b.signIn(c.alice)
	for _, p := range consolePages {
		if status, _, page := b.do("GET", p, nil, nil); status != 200 || !strings.Contains(page, c.alice.AccountID) {
			t.Errorf("GET %s signed in: %d", p, status)
		}
	}
}

func TestAPIWithoutASessionIsAuthFailure(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	b := c.browser(t)
	for _, path := range []string{"/api/v1/instances", "/api/v1/instances/i-0123456789abcdef0/serial-console"} {
		for _, cookie := range []string{"", session.CookieName + "=forged.value"} {
			var doc errDoc
			status, _, body := b.do("GET", path, nil, map[string]string{"Cookie": cookie})
			json.Unmarshal([]byte(body), &doc)
			if status != http.StatusUnauthorized || doc.Error.Code != "AuthFailure" {
				t.Errorf("%s with cookie %q: %d %s", path, cookie, status, body)
			}
		}
	}
}

func TestSignIn(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	b := c.browser(t)
	status, _, page := b.signInForm(c.alice.ID, c.bob.Secret, "/")
	if status != http.StatusUnauthorized || !strings.Contains(page, "AuthFailure") {
		t.Fatalf("wrong secret: %d %s", status, page)
	}
	status, _, page = b.submit("/signin", url.Values{"access_key_id": {c.alice.ID}, "secret_access_key": {c.alice.Secret}})
	if status != http.StatusForbidden || !strings.Contains(page, "another site") {
		t.Fatalf("sign-in without the form's token: %d", status)
	}
	for next, want := range map[string]string{
		"/instances?state=running": "/instances?state=running",
		"//evil.example/":          "/",
		"https://evil.example/":    "/",
		"/\\evil.example":          "/",
		"/signin":                  "/",
	} {
		b := c.browser(t)
		if status, loc, _ := b.signInForm(c.alice.ID, c.alice.Secret, next); status != http.StatusSeeOther || loc != want {
			t.Errorf("next %q: %d to %q, want %q", next, status, loc, want)
		}
	}

	// The cookie as the browser gets it.
	resp, err := http.Get(c.srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	page2, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	form := url.Values{"form_token": {formTokenRE.FindStringSubmatch(string(page2))[1]},
		"access_key_id": {c.alice.ID}, "secret_access_key": {c.alice.Secret}}
	req, _ := http.NewRequest("POST", c.srv.URL+"/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for _, ck := range resp.Cookies() {
		req.AddCookie(ck)
	}
	resp, err = http.DefaultTransport.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	var set string
	for _, v := range resp.Header.Values("Set-Cookie") {
		if strings.HasPrefix(v, session.CookieName+"=") {
			set = v
		}
	}
	for _, want := range []string{"HttpOnly", "SameSite=Strict", "Max-Age=43200", "Path=/"} {
		if !strings.Contains(set, want) {
			t.Errorf("session cookie %q lacks %s", set, want)
		}
	}
	if strings.Contains(set, "Secure") {
		t.Errorf("session cookie %q is Secure over plain HTTP", set)
	}
}

func TestCookieRequestsThatChangeStateNeedTheCSRFToken(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	b := c.browser(t)
	b.signIn(c.alice)
	run := map[string]any{"image": c.imageID, "type": "t2.micro"}
	none, wrong := "", b.csrf[:len(b.csrf)-1]+"x"
	for name, token := range map[string]*string{"without a token": &none, "with a wrong token": &wrong} {
		var doc errDoc
		if status := b.api("POST", "/instances", run, token, &doc); status != http.StatusForbidden || !strings.Contains(doc.Error.Message, CSRFHeader) {
			t.Errorf("POST %s: %d %+v", name, status, doc)
		}
	}
	var list wire.Instances
	if status := b.api("GET", "/instances", nil, &none, &list); status != 200 || len(list.Instances) != 0 {
		t.Fatalf("GET without a token: %d, %d instances (nothing must have launched)", status, len(list.Instances))
	}
	id := c.launch(t, b)
	for _, r := range []struct{ method, path string }{
		{"POST", "/instances/" + id + "/stop"}, {"DELETE", "/instances/" + id}, {"DELETE", "/images/" + c.imageID},
		{"PATCH", "/load-balancers/web"}, {"POST", "/blobs"},
	} {
		if status := b.api(r.method, r.path, nil, &none, nil); status != http.StatusForbidden {
			t.Errorf("%s %s without a token: %d", r.method, r.path, status)
		}
	}
	// Another session's token is no good either.
	other := c.browser(t)
	other.signIn(c.alice)
	if status := b.api("POST", "/instances/"+id+"/reboot", nil, &other.csrf, nil); status != http.StatusForbidden {
		t.Errorf("another session's token: %d", status)
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	b := c.browser(t)
	b.signIn(c.alice)
	if status, _, _ := b.submit("/signout", url.Values{}); status != http.StatusForbidden {
		t.Fatalf("sign-out without the token: %d", status)
	}
	if status, loc, _ := b.submit("/signout", url.Values{"csrf_token": {b.csrf}}); status != http.StatusSeeOther || loc != "/signin" {
		t.Fatalf("sign out: %d to %q", status, loc)
	}
	if status := b.api("GET", "/instances", nil, nil, nil); status != http.StatusUnauthorized {
		t.Fatalf("API after sign-out: %d", status)
	}
	if status, _, _ := b.do("GET", "/", nil, nil); status != http.StatusFound {
		t.Fatalf("page after sign-out: %d", status)
	}
}

func TestCookieSessionsSeeOnlyTheirAccount(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	alice, bob := c.browser(t), c.browser(t)
	alice.signIn(c.alice)
	bob.signIn(c.bob)
	id := c.launch(t, alice)
	var list wire.Instances
	if status := bob.api("GET", "/instances", nil, nil, &list); status != 200 || len(list.Instances) != 0 {
		t.Fatalf("bob lists %d instances (%d)", len(list.Instances), status)
	}
	for _, r := range []struct{ method, path string }{
		{"GET", "/instances/" + id}, {"GET", "/instances/" + id + "/tags"}, {"POST", "/instances/" + id + "/stop"},
		{"POST", "/instances/" + id + "/terminate"}, {"DELETE", "/instances/" + id}, {"GET", "/instances/" + id + "/serial-console"},
	} {
		var doc errDoc
		if status := bob.api(r.method, r.path, nil, nil, &doc); status != http.StatusNotFound || doc.Error.Code != "InvalidInstanceID.NotFound" {
			t.Errorf("bob %s %s: %d %s", r.method, r.path, status, doc.Error.Code)
		}
	}
	if status := alice.api("GET", "/instances/"+id, nil, nil, nil); status != 200 {
		t.Fatalf("alice reads her instance: %d", status)
	}
}

func TestInstanceTags(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	b := c.browser(t)
	b.signIn(c.alice)
	var out wire.Instances
	b.api("POST", "/instances", map[string]any{"image": c.imageID, "type": "t2.micro", "name": "web"}, nil, &out)
	var tags tagsView
	if status := b.api("GET", "/instances/"+out.Instances[0].ID+"/tags", nil, nil, &tags); status != 200 ||
		len(tags.Tags) != 1 || tags.Tags[0] != (tagView{Key: "Name", Value: "web"}) {
		t.Fatalf("tags: %d %+v", status, tags)
	}
}

func TestRootStillAnswersEC2GetRequests(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	status, loc, body := c.browser(t).do("GET", "/?Action=DescribeRegions&Version=2016-11-15", nil, nil)
	if status == http.StatusFound || loc != "" || !strings.Contains(body, "<Response>") {
		t.Fatalf("EC2 GET on /: %d to %q: %s", status, loc, body)
	}
}

func TestStaticFilesAreKeptByVersion(t *testing.T) {
	c := newConsoleAPI(t, Options{})
	get := func(path string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest("GET", c.srv.URL+path, nil)
		if len(header) == 2 {
			req.Header.Set(header[0], header[1])
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	current := "/static/" + web.StaticVersion + "/js/api.js"
	resp := get(current)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/javascript") ||
		!strings.Contains(resp.Header.Get("Cache-Control"), "immutable") {
		t.Fatalf("api.js: %d %q %q", resp.StatusCode, resp.Header.Get("Content-Type"), resp.Header.Get("Cache-Control"))
	}
	// A page of an older kumod gets today's file, not to be kept.
	old := get("/static/0ld/js/api.js")
	if old.StatusCode != 200 || old.Header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("another version: %d %q", old.StatusCode, old.Header.Get("Cache-Control"))
	}
	if again := get(current, "If-None-Match", resp.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
		t.Fatalf("revalidation: %d", again.StatusCode)
	}
	for _, p := range []string{"/static/" + web.StaticVersion + "/../web.go", "/static/" + web.StaticVersion + "/nope.js", "/static/api.js"} {
		if resp := get(p); resp.StatusCode != http.StatusNotFound {
			t.Errorf("%s: %d", p, resp.StatusCode)
		}
	}
	b := c.browser(t)
	b.signIn(c.alice)
	if _, _, page := b.do("GET", "/instances", nil, nil); !strings.Contains(page, `src="/static/`+web.StaticVersion+`/js/instances.js"`) {
		t.Fatalf("the page does not name its script under the current version:\n%s", page)
	}
}
