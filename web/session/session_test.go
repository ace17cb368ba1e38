package session

import (
	"context"
	"crypto/tls"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/accounts"
	"kumo/internal/clock"
	"kumo/store"
)

var t0 = time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)

type env struct {
	dir      string
	accounts *accounts.Service
	clock    *clock.Fake
	svc      *Service
	key      accounts.NewAccessKey // of a plain account
	admin    accounts.Admin
}

func newEnv(t *testing.T) *env {
	t.Helper()
	ctx := context.Background()
	e := &env{dir: t.TempDir(), clock: clock.NewFake(t0)}
	st, err := store.Open(ctx, filepath.Join(e.dir, "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if e.accounts, err = accounts.Open(ctx, st, e.dir, e.clock); err != nil {
		t.Fatal(err)
	}
	if e.admin, err = e.accounts.Bootstrap(ctx, func(string) string { return "" }); err != nil {
		t.Fatal(err)
	}
	alice, err := e.accounts.CreateAccount(ctx, "alice")
	if err != nil {
		t.Fatal(err)
	}
	if e.key, err = e.accounts.CreateAccessKey(ctx, alice.ID); err != nil {
		t.Fatal(err)
	}
	if e.svc, err = Open(e.dir, e.accounts, e.clock); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) signIn(t *testing.T) *http.Cookie {
	t.Helper()
	c, ok, err := e.svc.SignIn(context.Background(), e.key.ID, e.key.Secret, false)
	if err != nil || !ok {
		t.Fatalf("sign in: ok=%v err=%v", ok, err)
	}
	return c
}

// sessionOf reads c back through a request, as the API does.
func sessionOf(t *testing.T, svc *Service, c *http.Cookie) (account string, admin bool, csrf string) {
	t.Helper()
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	account, admin, csrf, err := svc.Session(r)
	if err != nil {
		t.Fatal(err)
	}
	return account, admin, csrf
}

func TestSignInIssuesAStrictHttpOnlyCookie(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t)
	if c.Name != CookieName || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Secure || c.Path != "/" {
		t.Fatalf("cookie %+v", c)
	}
	if c.MaxAge != 12*3600 || !c.Expires.Equal(t0.Add(12*time.Hour)) {
		t.Fatalf("cookie lasts %d s, until %v", c.MaxAge, c.Expires)
	}
	account, admin, csrf := sessionOf(t, e.svc, c)
	if account != e.key.AccountID || admin || csrf == "" {
		t.Fatalf("session: account %q admin %v csrf %q", account, admin, csrf)
	}
	secure, _, _ := e.svc.SignIn(context.Background(), e.key.ID, e.key.Secret, true)
	if !secure.Secure {
		t.Fatal("a sign-in over TLS gave a cookie without Secure")
	}

	adm, ok, err := e.svc.SignIn(context.Background(), e.admin.AccessKeyID, e.admin.SecretAccessKey, false)
	if err != nil || !ok {
		t.Fatalf("admin sign in: %v %v", ok, err)
	}
	if account, admin, _ := sessionOf(t, e.svc, adm); account != e.admin.Account.ID || !admin {
		t.Fatalf("admin session: %q %v", account, admin)
	}
}

func TestSignInRefusesWrongCredentials(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	for _, tc := range []struct{ name, id, secret string }{
		{"wrong secret", e.key.ID, e.key.Secret[:39] + "x"},
		{"secret of another key", e.key.ID, e.admin.SecretAccessKey},
		{"empty secret", e.key.ID, ""},
		{"unknown key", "AKIAUNKNOWNUNKNOWN00", e.key.Secret},
		{"unknown key, empty secret", "AKIAUNKNOWNUNKNOWN00", ""},
	} {
		c, ok, err := e.svc.SignIn(ctx, tc.id, tc.secret, false)
		if err != nil || ok || c != nil {
			t.Errorf("%s: cookie %v ok %v err %v", tc.name, c, ok, err)
		}
	}
	if err := e.accounts.SetAccessKeyActive(ctx, e.key.ID, false); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := e.svc.SignIn(ctx, e.key.ID, e.key.Secret, false); ok || err != nil {
		t.Fatalf("inactive key signed in: %v %v", ok, err)
	}
}

func TestAlteredCookiesAreRefused(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t)
	enc, sig, _ := strings.Cut(c.Value, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(enc)
	// The same session with another account or the admin flag set, keeping
	// the signature of the original.
	reSigned := func(from, to string) string {
		return base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(string(raw), from, to, 1))) + "." + sig
	}
	flipped := []byte(c.Value)
	flipped[len(flipped)-2] ^= 1
	for name, value := range map[string]string{
		"signature flipped":   string(flipped),
		"other account":       reSigned(e.key.AccountID, e.admin.Account.ID),
		"admin flag set":      reSigned("|0|", "|1|"),
		"no signature":        enc,
		"empty signature":     enc + ".",
		"not base64":          "!!!." + sig,
		"empty":               "",
		"signature of other":  enc + "." + strings.SplitN(e.signIn(t).Value, ".", 2)[1],
		"payload of 5 fields": base64.RawURLEncoding.EncodeToString([]byte("1|a|b|0|c")) + "." + sig,
	} {
		if account, _, _ := sessionOf(t, e.svc, &http.Cookie{Name: CookieName, Value: value}); account != "" {
			t.Errorf("%s: accepted as %s", name, account)
		}
	}
}

func TestSessionsExpireAfter12Hours(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t)
	e.clock.Advance(TTL - time.Second)
	if account, _, _ := sessionOf(t, e.svc, c); account == "" {
		t.Fatal("a session ended before its 12 hours")
	}
	e.clock.Advance(time.Second)
	if account, _, _ := sessionOf(t, e.svc, c); account != "" {
		t.Fatal("a session outlived its 12 hours")
	}
}

func TestCookiesOfAnotherKeyAreRefused(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t)
	other, err := New([]byte(strings.Repeat("k", 32)), e.accounts, e.clock)
	if err != nil {
		t.Fatal(err)
	}
	if account, _, _ := sessionOf(t, other, c); account != "" {
		t.Fatal("a cookie signed under another key was accepted")
	}
	// The key file is kept: a restart keeps everyone signed in.
	again, err := Open(e.dir, e.accounts, e.clock)
	if err != nil {
		t.Fatal(err)
	}
	if account, _, _ := sessionOf(t, again, c); account != e.key.AccountID {
		t.Fatal("a session did not survive reopening the key file")
	}
}

func TestKeyFileIsPrivate(t *testing.T) {
	e := newEnv(t)
	path := filepath.Join(e.dir, KeyFile)
	info, err := os.Stat(path)
	if err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("key file: %v, mode %v", err, info.Mode())
	}
	if err := os.Chmod(path, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(e.dir, e.accounts, e.clock); err == nil || !strings.Contains(err.Error(), "0600") {
		t.Fatalf("a key readable by others was used: %v", err)
	}
	os.Chmod(path, 0o600)
	os.WriteFile(path, []byte("short\n"), 0o600)
	if _, err := Open(e.dir, e.accounts, e.clock); err == nil {
		t.Fatal("a malformed key was used")
	}
}

func TestDisabledKeyEndsItsSessions(t *testing.T) {
	e := newEnv(t)
	c := e.signIn(t)
	if err := e.accounts.SetAccessKeyActive(context.Background(), e.key.ID, false); err != nil {
		t.Fatal(err)
	}
	if account, _, _ := sessionOf(t, e.svc, c); account != "" {
		t.Fatal("the session of a disabled key goes on")
	}
}

func TestSignOutEndsTheSession(t *testing.T) {
	e := newEnv(t)
	c, other := e.signIn(t), e.signIn(t)
	r := httptest.NewRequest("POST", "/signout", nil)
	r.AddCookie(c)
	r.TLS = &tls.ConnectionState{}
	clear := e.svc.SignOut(r, true)
	if clear.Value != "" || clear.MaxAge >= 0 || !clear.Secure || !clear.HttpOnly {
		t.Fatalf("sign-out cookie %+v", clear)
	}
	if account, _, _ := sessionOf(t, e.svc, c); account != "" {
		t.Fatal("a signed-out cookie still works")
	}
	if account, _, _ := sessionOf(t, e.svc, other); account == "" {
		t.Fatal("signing out one session ended another")
	}
}

func TestCSRFTokensDifferPerSession(t *testing.T) {
	e := newEnv(t)
	a, b := e.signIn(t), e.signIn(t)
	_, _, ta := sessionOf(t, e.svc, a)
	_, _, tb := sessionOf(t, e.svc, b)
	if ta == "" || ta == tb {
		t.Fatalf("tokens %q and %q", ta, tb)
	}
	if _, _, again := sessionOf(t, e.svc, a); again != ta {
		t.Fatal("a session's token changed between requests")
	}
}
