package elbquery

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"net/http"
)

// Error is an ELB error as it goes on the wire. The clients switch on the
// code; the status decides whether they retry (5xx are retried), and the
// document's Type follows from it: Sender for the client's mistakes,
// Receiver for the server's.
type Error struct {
	Code    string
	Message string
	Status  int
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

func newError(status int, code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...), Status: status}
}

// The codes and statuses are those of the ELB API reference (2012-06-01):
// the errors of each action, and the common errors of all query services.

// LoadBalancerNotFound: no load balancer has the name.
func LoadBalancerNotFound(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "LoadBalancerNotFound", format, args...)
}

// DuplicateLoadBalancerName: the name is taken.
func DuplicateLoadBalancerName(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "DuplicateLoadBalancerName", format, args...)
}

// InvalidInstance: an instance that does not exist, may not be named by
// the caller, or cannot take traffic.
func InvalidInstance(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "InvalidInstance", format, args...)
}

// InvalidConfigurationRequest: a configuration that cannot be applied,
// such as a port that is in use.
func InvalidConfigurationRequest(format string, args ...any) *Error {
	return newError(http.StatusConflict, "InvalidConfigurationRequest", format, args...)
}

// ValidationError: a parameter missing, unknown, or of the wrong form.
func ValidationError(format string, args ...any) *Error {
	return newError(http.StatusBadRequest, "ValidationError", format, args...)
}

// InvalidClientTokenId: the access key is unknown.
func InvalidClientTokenId() *Error {
	return newError(http.StatusForbidden, "InvalidClientTokenId", "The security token included in the request is invalid.")
}

// InternalFailure: a failure of the server. Its message says nothing more,
// since the cause may hold host details.
func InternalFailure() *Error {
	return newError(http.StatusInternalServerError, "InternalFailure",
		"The request processing has failed because of an unknown error, exception or failure.")
}

// errorResponse is ELB's error document. Unlike EC2's it has the namespace
// and spells RequestId as the success documents do.
type errorResponse struct {
	XMLName   xml.Name `xml:"ErrorResponse"`
	Namespace string   `xml:"xmlns,attr"`
	Type      string   `xml:"Error>Type"`
	Code      string   `xml:"Error>Code"`
	Message   string   `xml:"Error>Message"`
	RequestID string   `xml:"RequestId"`
}

// WriteError answers err as ELB does. A status outside 400-599 is a
// mistake of the caller's, sent as 500.
func WriteError(w http.ResponseWriter, requestID string, err *Error) {
	status := err.Status
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	typ := "Sender"
	if status >= 500 {
		typ = "Receiver"
	}
	var b bytes.Buffer
	b.WriteString(xml.Header)
	// Strings always encode: what XML cannot hold becomes U+FFFD.
	_ = xml.NewEncoder(&b).Encode(errorResponse{Namespace: Namespace, Type: typ, Code: err.Code,
		Message: err.Message, RequestID: requestID})
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(status)
	w.Write(b.Bytes())
}
