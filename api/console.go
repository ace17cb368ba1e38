package api

import (
	"bytes"
	"crypto/subtle"
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"kumo/web"
)

// The browser console's pages are HTML shells rendered by package web,
// whose scripts call the REST API with the session cookie. A page asked
// for without a session sends the browser to sign in.

// signInTokenCookie holds the token the sign-in form must send back, so
// that another site cannot sign a browser in to an account of its
// choosing (login CSRF): it can neither read the cookie nor set it.
const signInTokenCookie = "kumo_signin"

var errNoConsole = echo.NewHTTPError(http.StatusNotFound, "this server serves no browser console")

// page serves the console page name.
func (s *Server) page(name string) echo.HandlerFunc {
	return func(c echo.Context) error { return s.renderPage(c, name) }
}

// root serves the console's overview, or the EC2 API for a GET that names
// an action, as EC2 accepts.
func (s *Server) root(c echo.Context) error {
	if c.QueryParams().Has("Action") {
		return s.ec2(c)
	}
	return s.renderPage(c, "overview")
}

func (s *Server) renderPage(c echo.Context, name string) error {
	if s.sessions == nil {
		return errNoConsole
	}
	r := c.Request()
	account, admin, token, err := s.sessions.Session(r)
	if err != nil {
		return err
	}
	if account == "" {
		return c.Redirect(http.StatusFound, "/signin?next="+url.QueryEscape(r.URL.RequestURI()))
	}
	p := web.Page{Name: name, Title: web.Pages[name], Account: account, Admin: admin, CSRFToken: token,
		Region: s.region, Zone: s.zone}
	if name == "instance" {
		p.InstanceID = c.Param("id")
		p.Title = p.InstanceID
	}
	return writePage(c, http.StatusOK, p)
}

func writePage(c echo.Context, status int, p web.Page) error {
	var buf bytes.Buffer
	if err := web.Render(&buf, p); err != nil {
		return err
	}
	h := c.Response().Header()
	// Pages carry their session's CSRF token: never cached, never framed,
	// and nothing but their own scripts and styles runs in them.
	h.Set("Cache-Control", "no-store")
	h.Set("Content-Security-Policy", p.CSP())
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "same-origin")
	return c.HTMLBlob(status, buf.Bytes())
}

func (s *Server) signInPage(c echo.Context) error {
	if s.sessions == nil {
		return errNoConsole
	}
	next := localPath(c.QueryParam("next"))
	if account, _, _, err := s.sessions.Session(c.Request()); err == nil && account != "" {
		return c.Redirect(http.StatusSeeOther, next)
	}
	return s.signInForm(c, http.StatusOK, next, "")
}

// signInForm serves the sign-in page with a fresh form token.
func (s *Server) signInForm(c echo.Context, status int, next, problem string) error {
	token := newRequestID()
	c.SetCookie(&http.Cookie{Name: signInTokenCookie, Value: token, Path: "/signin", MaxAge: 3600,
		HttpOnly: true, Secure: c.Request().TLS != nil, SameSite: http.SameSiteStrictMode})
	return writePage(c, status, web.Page{Name: "signin", Title: "Sign in", Region: s.region, Zone: s.zone,
		Next: next, FormToken: token, Error: problem})
}

func (s *Server) signIn(c echo.Context) error {
	if s.sessions == nil {
		return errNoConsole
	}
	r := c.Request()
	next := localPath(c.FormValue("next"))
	ck, err := r.Cookie(signInTokenCookie)
	if err != nil || subtle.ConstantTimeCompare([]byte(ck.Value), []byte(c.FormValue("form_token"))) != 1 {
		return s.signInForm(c, http.StatusForbidden, next,
			"The sign-in form expired or came from another site. Sign in again.")
	}
	cookie, ok, err := s.sessions.SignIn(r.Context(), strings.TrimSpace(c.FormValue("access_key_id")),
		c.FormValue("secret_access_key"), r.TLS != nil)
	if err != nil {
		return err
	}
	if !ok {
		return s.signInForm(c, http.StatusUnauthorized, next,
			"AuthFailure: the access key ID or the secret access key is not valid.")
	}
	c.SetCookie(cookie)
	c.SetCookie(&http.Cookie{Name: signInTokenCookie, Path: "/signin", MaxAge: -1,
		HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
	return c.Redirect(http.StatusSeeOther, next)
}

// signOut is a form's POST: its token comes as a form field.
func (s *Server) signOut(c echo.Context) error {
	if s.sessions == nil {
		return errNoConsole
	}
	r := c.Request()
	account, _, token, err := s.sessions.Session(r)
	if err != nil {
		return err
	}
	if account != "" && !sameToken(c.FormValue("csrf_token"), token) {
		return errCSRF
	}
	c.SetCookie(s.sessions.SignOut(r, r.TLS != nil))
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// localPath is where to send the browser after sign-in: a path on this
// server, never another site.
func localPath(next string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || !strings.HasPrefix(u.Path, "/") ||
		strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || strings.HasPrefix(u.Path, "/signin") {
		return "/"
	}
	return u.RequestURI()
}

var static = echo.WrapHandler(http.StripPrefix("/static", web.Static))
