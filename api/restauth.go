package api

import (
	"bytes"
	"errors"
	"io"
	"net/http"

	"github.com/labstack/echo/v4"

	"kumo/api/sigv4"
)

// RESTAuth tells which account sent a REST request. The REST API takes the
// same access keys as the EC2 API, signed the same way (AWS Signature
// Version 4, for the service "kumo").
type RESTAuth interface {
	// AuthenticateREST checks r's signature: over body, which the caller
	// has read, or, for a route that streams its body (streamed), over the
	// rest of the request, signed as UNSIGNED-PAYLOAD.
	AuthenticateREST(r *http.Request, body []byte, streamed bool) (Caller, error)
}

// Caller is who sent a REST request. Each account sees its own resources
// as on the EC2 API; the administrator also keeps the cloud's own images,
// which every account may launch, and its load balancers, which may send
// to any address.
type Caller struct {
	Account string
	Admin   bool
}

// RESTService is the service name REST requests are signed for.
const RESTService = "kumo"

const callerKey = "kumo.caller"

// withAccount lets through only requests of an account, and tells h which:
// those with a console session cookie (and, when they change state, its
// CSRF token), otherwise those signed with the account's key.
func (s *Server) withAccount(h echo.HandlerFunc, streamed bool) echo.HandlerFunc {
	return func(c echo.Context) error {
		signedIn, ok, err := s.sessionCaller(c)
		if err != nil {
			return err
		}
		if ok {
			c.Set(callerKey, signedIn)
			return h(c)
		}
		if s.restAuth == nil {
			return &sigv4.Error{Code: sigv4.CodeAuthFailure, Message: "This endpoint does not serve the REST API."}
		}
		r := c.Request()
		var body []byte
		if !streamed {
			var err error
			if body, err = io.ReadAll(r.Body); err != nil {
				var tooBig *http.MaxBytesError
				if errors.As(err, &tooBig) {
					return echo.NewHTTPError(http.StatusRequestEntityTooLarge, "the request body is too large")
				}
				return err
			}
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		caller, err := s.restAuth.AuthenticateREST(r, body, streamed)
		var se *sigv4.Error
		if s.sessions != nil && errors.As(err, &se) && se.Code == sigv4.CodeMissingAuthenticationToken {
			// Neither signed nor signed in: for the console, a session
			// that ended.
			return errSignIn
		}
		if err != nil {
			return err
		}
		c.Set(callerKey, caller)
		return h(c)
	}
}

var errSignIn = &sigv4.Error{Code: sigv4.CodeAuthFailure,
	Message: "Sign in to the console, or sign the request with AWS Signature Version 4."}

// callerOf is who sent the request.
func callerOf(c echo.Context) Caller {
	caller, _ := c.Get(callerKey).(Caller)
	return caller
}

// accountOf is the account that sent the request.
func accountOf(c echo.Context) string { return callerOf(c).Account }

// ownerViewOf names the view of images and load balancers the caller
// gets: the administrator's (""), which sees every one, registers the
// cloud's own images and may send to any address, or the account's.
func ownerViewOf(c echo.Context) string {
	if caller := callerOf(c); !caller.Admin {
		return caller.Account
	}
	return ""
}
