package sigv4

import (
	"errors"
	"fmt"
)

// EC2 error codes for the ways authentication fails. The HTTP statuses EC2
// documents for them are in the comments; the API layer owns that mapping.
const (
	// CodeMissingAuthenticationToken: the request carries no signature at
	// all (403).
	CodeMissingAuthenticationToken = "MissingAuthenticationToken"
	// CodeIncompleteSignature: the signature is there but malformed or
	// missing a part, so it cannot be checked (400).
	CodeIncompleteSignature = "IncompleteSignature"
	// CodeAuthFailure: the access key is unknown or may not sign (401).
	CodeAuthFailure = "AuthFailure"
	// CodeSignatureDoesNotMatch: the key is known but the signature is
	// wrong: another secret, or a request changed after signing (403).
	CodeSignatureDoesNotMatch = "SignatureDoesNotMatch"
	// CodeRequestExpired: the signing time is too far from now, or a
	// presigned request has passed its expiry (400).
	CodeRequestExpired = "RequestExpired"
)

// Error is a failed verification, with the EC2 error code to answer and a
// message for the caller. The message never holds a secret or a signature
// the server computed, which would help forge one.
type Error struct {
	Code    string
	Message string
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// ErrUnknownKey is what a SecretLookup returns, wrapped or not, for an access
// key it does not know or that may not sign. Any other lookup error is a
// failure to look and is returned by Verify as it is.
var ErrUnknownKey = errors.New("unknown access key")

func incomplete(format string, args ...any) *Error {
	return &Error{Code: CodeIncompleteSignature, Message: fmt.Sprintf(format, args...)}
}

func expired(format string, args ...any) *Error {
	return &Error{Code: CodeRequestExpired, Message: fmt.Sprintf(format, args...)}
}

var (
	errNoAuth = &Error{Code: CodeMissingAuthenticationToken,
		Message: "The request must contain valid credentials: an AWS4-HMAC-SHA256 Authorization header or X-Amz-* query parameters."}
	errUnknownKey = &Error{Code: CodeAuthFailure,
		Message: "AWS was not able to validate the provided access credentials"}
	errMismatch = &Error{Code: CodeSignatureDoesNotMatch,
		Message: "The request signature we calculated does not match the signature you provided. Check your secret access key and signing method."}
	errPayloadMismatch = &Error{Code: CodeSignatureDoesNotMatch,
		Message: "The X-Amz-Content-Sha256 header does not match the SHA-256 of the request body."}
)
