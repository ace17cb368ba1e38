package api

import (
	"context"
	"crypto/subtle"
	"net/http"

	"github.com/labstack/echo/v4"
)

// SessionAuth signs people in to the browser console and recognises the
// session cookie it hands out. It speaks in the standard library's types
// only, so that its implementation need not import this package.
type SessionAuth interface {
	// SignIn checks an access key id and its secret. ok is false when they
	// do not sign in; the cookie carries the new session, kept to HTTPS
	// when secure.
	SignIn(ctx context.Context, accessKeyID, secret string, secure bool) (cookie *http.Cookie, ok bool, err error)
	// SignOut ends r's session and returns the cookie that clears it.
	SignOut(r *http.Request, secure bool) *http.Cookie
	// Session reads r's session cookie: its account, whether that is the
	// administrator, and the token its state-changing requests must carry
	// in CSRFHeader. account is "" when r carries no valid session.
	Session(r *http.Request) (account string, admin bool, csrfToken string, err error)
}

// CSRFHeader carries a console session's token on every request that may
// change something. Only the console's own pages can read the token, so a
// request another site makes the browser send cannot carry it.
const CSRFHeader = "X-CSRF-Token"

var errCSRF = echo.NewHTTPError(http.StatusForbidden,
	"This request changes state and must carry the "+CSRFHeader+" header of its console session; reload the page.")

// sessionCaller is the caller of a request that carries a console session
// cookie; ok is false when it carries no valid one.
func (s *Server) sessionCaller(c echo.Context) (caller Caller, ok bool, err error) {
	if s.sessions == nil {
		return Caller{}, false, nil
	}
	r := c.Request()
	account, admin, token, err := s.sessions.Session(r)
	if err != nil || account == "" {
		return Caller{}, false, err
	}
	if changesState(r.Method) && !sameToken(r.Header.Get(CSRFHeader), token) {
		return Caller{}, false, errCSRF
	}
	return Caller{Account: account, Admin: admin}, true, nil
}

func changesState(method string) bool {
	return method != http.MethodGet && method != http.MethodHead && method != http.MethodOptions
}

func sameToken(given, want string) bool {
	return want != "" && subtle.ConstantTimeCompare([]byte(given), []byte(want)) == 1
}
