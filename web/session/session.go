// Package session signs people in to the browser console with an access
// key and recognises the cookie it then hands out.
//
// Sessions are stateless: the cookie carries the session itself (a random
// id, the account, whether it is the administrator, the access key it was
// opened with and its expiry), signed with HMAC-SHA256 under a key kept in
// the data dir (session.key, mode 0600), so kumod keeps no session table
// and a restart signs nobody out. Each request checks again that the access
// key is still active, so disabling a key ends the sessions it opened.
//
// Cross-site request forgery is stopped by a token per session, an HMAC of
// its id: the console's pages carry it, and every state-changing request
// must send it back in a header. Another site can read neither the page nor
// the cookie, and the cookie is SameSite=Strict besides.
//
// It must not know the API, echo or the services other than accounts: the
// API reaches it through an interface of its own.
package session

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"kumo/accounts"
	"kumo/internal/clock"
)

const (
	// CookieName is the session cookie's name.
	CookieName = "kumo_session"
	// TTL is how long a session lasts from sign-in.
	TTL = 12 * time.Hour
)

// errInvalid is a cookie that holds no valid session: forged, altered,
// signed under another key, expired, signed out, or opened with an access
// key that may no longer sign.
var errInvalid = errors.New("no valid session")

// Accounts is what sessions ask of the accounts service.
type Accounts interface {
	// Lookup returns the secret of an active access key and its account,
	// or accounts.ErrKeyNotFound or accounts.ErrKeyInactive.
	Lookup(ctx context.Context, accessKeyID string) (secret, accountID string, err error)
	Get(ctx context.Context, id string) (accounts.Account, error)
}

// record is one signed-in browser's session, as its cookie carries it.
type record struct {
	ID          string // random, 128 bits in hex
	Account     string
	Admin       bool
	AccessKeyID string // the key signed in with
	Expires     time.Time
}

// Service issues and checks sessions.
type Service struct {
	key      []byte
	accounts Accounts
	clock    clock.Clock

	mu sync.Mutex
	// revoked holds sessions signed out before they expired, by id, until
	// they would have expired. It lives in memory: a restart forgets it,
	// and such a cookie works again until its expiry.
	revoked map[string]time.Time
}

// New returns a service signing with key, at least 32 bytes. A nil clk is
// the wall clock.
func New(key []byte, accts Accounts, clk clock.Clock) (*Service, error) {
	if len(key) < 32 {
		return nil, errors.New("session: the signing key must be at least 32 bytes")
	}
	if clk == nil {
		clk = clock.Real{}
	}
	return &Service{key: key, accounts: accts, clock: clk, revoked: map[string]time.Time{}}, nil
}

// SignIn checks an access key id and its secret. ok is false when they do
// not sign in: an unknown or inactive key, or another secret. The cookie
// carries the new session; secure keeps it to HTTPS, for a request that
// came over TLS.
func (s *Service) SignIn(ctx context.Context, accessKeyID, secret string, secure bool) (cookie *http.Cookie, ok bool, err error) {
	stored, accountID, err := s.accounts.Lookup(ctx, accessKeyID)
	if errors.Is(err, accounts.ErrKeyNotFound) || errors.Is(err, accounts.ErrKeyInactive) {
		// Compared all the same, so the time taken does not tell a
		// known key from an unknown one.
		stored, accountID, err = "", "", nil
	}
	if err != nil {
		return nil, false, err
	}
	if !sameSecret(stored, secret) || accountID == "" {
		return nil, false, nil
	}
	acct, err := s.accounts.Get(ctx, accountID)
	if err != nil {
		return nil, false, err
	}
	sess := record{ID: newID(), Account: acct.ID, Admin: acct.Admin, AccessKeyID: accessKeyID,
		Expires: s.clock.Now().Add(TTL).Truncate(time.Second)}
	return s.cookie(s.encode(sess), sess.Expires, secure), true, nil
}

// sameSecret compares in constant time: the digests have one length
// whatever was typed.
func sameSecret(stored, given string) bool {
	a, b := sha256.Sum256([]byte(stored)), sha256.Sum256([]byte(given))
	return hmac.Equal(a[:], b[:])
}

// SignOut ends r's session, if it has one, and returns the cookie that
// clears it in the browser.
func (s *Service) SignOut(r *http.Request, secure bool) *http.Cookie {
	if c, err := r.Cookie(CookieName); err == nil {
		if sess, err := s.verify(r.Context(), c.Value); err == nil {
			s.revoke(sess)
		}
	}
	c := s.cookie("", time.Unix(0, 0), secure)
	c.MaxAge = -1
	return c
}

func (s *Service) revoke(sess record) {
	now := s.clock.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	for id, exp := range s.revoked {
		if !exp.After(now) {
			delete(s.revoked, id)
		}
	}
	s.revoked[sess.ID] = sess.Expires
}

// Session reads r's session cookie: the account, whether it is the
// administrator, and the token state-changing requests of the session must
// carry. account is "" when r has no valid session; err is a failure to
// tell, such as the accounts' database failing.
func (s *Service) Session(r *http.Request) (account string, admin bool, csrfToken string, err error) {
	c, err := r.Cookie(CookieName)
	if err != nil {
		return "", false, "", nil
	}
	sess, err := s.verify(r.Context(), c.Value)
	if errors.Is(err, errInvalid) {
		return "", false, "", nil
	}
	if err != nil {
		return "", false, "", err
	}
	return sess.Account, sess.Admin, s.csrfToken(sess), nil
}

// csrfToken is the session's token against cross-site request forgery.
func (s *Service) csrfToken(sess record) string {
	return base64.RawURLEncoding.EncodeToString(s.mac("csrf", sess.ID))
}

func (s *Service) cookie(value string, expires time.Time, secure bool) *http.Cookie {
	return &http.Cookie{Name: CookieName, Value: value, Path: "/", Expires: expires,
		MaxAge: int(TTL / time.Second), HttpOnly: true, Secure: secure, SameSite: http.SameSiteStrictMode}
}

// encode signs sess into a cookie value.
func (s *Service) encode(sess record) string {
	admin := "0"
	if sess.Admin {
		admin = "1"
	}
	payload := strings.Join([]string{formatVersion, sess.ID, sess.Account, admin, sess.AccessKeyID,
		strconv.FormatInt(sess.Expires.Unix(), 10)}, "|")
	return base64.RawURLEncoding.EncodeToString([]byte(payload)) + "." +
		base64.RawURLEncoding.EncodeToString(s.mac("session", payload))
}

// formatVersion leads every payload, so that a later format can tell old
// cookies apart.
const formatVersion = "1"

// verify reads a cookie value back into its session: errInvalid unless it
// is one this service signed, unexpired, not signed out, whose access key
// still signs for its account.
func (s *Service) verify(ctx context.Context, value string) (record, error) {
	enc, sig, ok := strings.Cut(value, ".")
	if !ok {
		return record{}, errInvalid
	}
	raw, err1 := base64.RawURLEncoding.DecodeString(enc)
	mac, err2 := base64.RawURLEncoding.DecodeString(sig)
	if err1 != nil || err2 != nil || !hmac.Equal(mac, s.mac("session", string(raw))) {
		return record{}, errInvalid
	}
	f := strings.Split(string(raw), "|")
	if len(f) != 6 || f[0] != formatVersion {
		return record{}, errInvalid
	}
	exp, err := strconv.ParseInt(f[5], 10, 64)
	if err != nil {
		return record{}, errInvalid
	}
	sess := record{ID: f[1], Account: f[2], Admin: f[3] == "1", AccessKeyID: f[4], Expires: time.Unix(exp, 0)}
	if !sess.Expires.After(s.clock.Now()) {
		return record{}, errInvalid
	}
	s.mu.Lock()
	_, out := s.revoked[sess.ID]
	s.mu.Unlock()
	if out {
		return record{}, errInvalid
	}
	_, accountID, err := s.accounts.Lookup(ctx, sess.AccessKeyID)
	if errors.Is(err, accounts.ErrKeyNotFound) || errors.Is(err, accounts.ErrKeyInactive) {
		return record{}, errInvalid
	}
	if err != nil {
		return record{}, err
	}
	if accountID != sess.Account {
		return record{}, errInvalid
	}
	return sess, nil
}

// mac is HMAC-SHA256 of msg under the key, for one purpose: a MAC made for
// one purpose never passes for another's.
func (s *Service) mac(purpose, msg string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(purpose))
	h.Write([]byte{0})
	h.Write([]byte(msg))
	return h.Sum(nil)
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
