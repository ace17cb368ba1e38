package ec2query

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
	"unicode/utf8"
)

// Error is an EC2 error as it goes on the wire: a code the clients switch
// on, a message for people, and the HTTP status. The SDKs read only the
// code and message; the status decides whether they retry (500, 502, 503,
// 504 and the throttling codes are retried).
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// The codes and messages below follow EC2's answers as captured from real
// clients, or its error-code reference where no capture exists.

// MissingAction: the request names no action.
func MissingAction() *Error {
	return newError(http.StatusBadRequest, "MissingAction", "The request must contain the parameter Action")
}

// InvalidAction: an action the service does not have.
func InvalidAction(action string) *Error {
	return newError(http.StatusBadRequest, "InvalidAction", "The action %s is not valid for this web service.", clip(action))
}

// MissingParameter: a required parameter is absent or empty.
func MissingParameter(name string) *Error {
	return newError(http.StatusBadRequest, "MissingParameter", "The request must contain the parameter %s", clip(name))
}

// UnknownParameter: a parameter the action does not take.
func UnknownParameter(name string) *Error {
	return newError(http.StatusBadRequest, "UnknownParameter", "The parameter %s is not recognized", clip(name))
}

// InvalidParameterValue: a value of the wrong form or out of range.
func InvalidParameterValue(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "InvalidParameterValue", format, args...)
}

// InvalidParameterCombination: parameters that may not be used together.
func InvalidParameterCombination(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "InvalidParameterCombination", format, args...)
}

// AuthFailure: the credentials could not be validated. EC2 answers 401
// where other services answer 403.
func AuthFailure(format string, args ...any) *Error {
	return newError(http.StatusUnauthorized, "AuthFailure", format, args...)
}

// UnauthorizedOperation: valid credentials that may not do this.
func UnauthorizedOperation(format string, args ...any) *Error {
	return newError(http.StatusForbidden, "UnauthorizedOperation", format, args...)
}

// RequestExpired: a signature dated too far from now. A client error, not
// retried, since resending the same request cannot help.
func RequestExpired(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "RequestExpired", format, args...)
}

// DryRunOperation: a DryRun request that would have succeeded. EC2 answers
// it as an error, with 412.
func DryRunOperation() *Error {
	return newError(http.StatusPreconditionFailed, "DryRunOperation", "Request would have succeeded, but DryRun flag is set.")
}

// RequestLimitExceeded: throttled. It must be 503: older botocore retries
// this code only with that status.
func RequestLimitExceeded() *Error {
	return newError(http.StatusServiceUnavailable, "RequestLimitExceeded", "Request limit exceeded.")
}

// InternalError: a failure of the server. Its message says nothing more,
// since the cause may hold host details.
func InternalError() *Error {
	return newError(http.StatusInternalServerError, "InternalError", "An internal error has occurred.")
}

// Unavailable: the server cannot take the request now; clients retry.
func Unavailable() *Error {
	return newError(http.StatusServiceUnavailable, "Unavailable", "The server is unable to handle the request now.")
}

// Errors only Parse produces.

func noSuchVersion(version string) *Error {
	return newError(http.StatusBadRequest, "NoSuchVersion",
		"The requested version (%s) of service AmazonEC2 does not exist", clip(version))
}

func malformedQueryString(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "MalformedQueryString", format, args...)
}

func invalidCharacter(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "InvalidCharacter", format, args...)
}

// The next three have no EC2 code; they carry the codes kumo's REST API
// answers for the same failures.

func methodNotAllowed(method string) *Error {
	return newError(http.StatusMethodNotAllowed, "MethodNotAllowed", "The method %s is not allowed; use POST", clip(method))
}

func unsupportedMediaType(ct string) *Error {
	return newError(http.StatusUnsupportedMediaType, "UnsupportedMediaType",
		"The body must be application/x-www-form-urlencoded, not %s", clip(ct))
}

func requestTooLarge(max int64) *Error {
	return newError(http.StatusRequestEntityTooLarge, "RequestEntityTooLarge", "The request body is larger than %d bytes", max)
}

// WriteError answers err as EC2 does. The error document, unlike success
// responses, has no namespace and spells RequestID in capitals:
// aws-sdk-go-v2 decodes exactly Errors>Error>Code and RequestID, and
// botocore reports RequestID as the request id. A status outside 400-599 is
// a mistake of the caller's, sent as 500.
func WriteError(w http.ResponseWriter, requestID string, err *Error) {
	var b bytes.Buffer
	b.WriteString(xml.Header + "<Response><Errors><Error><Code>")
	escape(&b, err.Code)
	b.WriteString("</Code><Message>")
	escape(&b, err.Message)
	b.WriteString("</Message></Error></Errors><RequestID>")
	escape(&b, requestID)
	b.WriteString("</RequestID></Response>")

	status := err.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b.Bytes())
}

// escape writes s as XML character data. Unlike xml.EscapeText it leaves
// quotes as they are, as EC2 does in messages such as "The instance ID
// 'i-1' does not exist"; what XML cannot hold becomes U+FFFD, so a message
// quoting a client's bytes still parses.
func escape(b *bytes.Buffer, s string) {
	for _, r := range s {
		switch {
		case r == '&':
			b.WriteString("&amp;")
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '\r': // a parser would read a raw CR as a line feed
			b.WriteString("&#xD;")
		case r == '\t' || r == '\n' || 0x20 <= r && r <= 0xD7FF || 0xE000 <= r && r <= 0xFFFD || 0x10000 <= r:
			b.WriteRune(r)
		default:
			b.WriteRune(utf8.RuneError)
		}
	}
}
