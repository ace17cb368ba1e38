package elbquery

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, "9d2f6f6c-example", LoadBalancerNotFound("There is no ACTIVE Load Balancer named '%s'", "web"))
	const want = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/">` +
		`<Error><Type>Sender</Type><Code>LoadBalancerNotFound</Code>` +
		`<Message>There is no ACTIVE Load Balancer named &#39;web&#39;</Message></Error>` +
		`<RequestId>9d2f6f6c-example</RequestId></ErrorResponse>`
	if got := rec.Body.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if rec.Code != http.StatusBadRequest || rec.Header().Get("Content-Type") != "text/xml" {
		t.Errorf("status %d, Content-Type %q", rec.Code, rec.Header().Get("Content-Type"))
	}
}

func TestWriteErrorEscapesAndTypes(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, "r", &Error{Code: "InternalFailure", Message: "a&b</Message>\x01", Status: 503})
	const want = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<ErrorResponse xmlns="http://elasticloadbalancing.amazonaws.com/doc/2012-06-01/">` +
		`<Error><Type>Receiver</Type><Code>InternalFailure</Code>` +
		"<Message>a&amp;b&lt;/Message&gt;\uFFFD</Message></Error>" +
		`<RequestId>r</RequestId></ErrorResponse>`
	if got := rec.Body.String(); got != want || rec.Code != 503 {
		t.Errorf("got %d\n%s\nwant\n%s", rec.Code, got, want)
	}
	for _, status := range []int{0, 200, 600} {
		rec := httptest.NewRecorder()
		WriteError(rec, "r", &Error{Code: "X", Message: "x", Status: status})
		if rec.Code != http.StatusInternalServerError {
			t.Errorf("status %d sent as %d, want 500", status, rec.Code)
		}
	}
}

func TestErrorCodes(t *testing.T) {
	tests := []struct {
		err    *Error
		code   string
		status int
	}{
		{LoadBalancerNotFound("x"), "LoadBalancerNotFound", 400},
		{DuplicateLoadBalancerName("x"), "DuplicateLoadBalancerName", 400},
		{InvalidInstance("x"), "InvalidInstance", 400},
		{InvalidConfigurationRequest("x"), "InvalidConfigurationRequest", 409},
		{ValidationError("x"), "ValidationError", 400},
		{InvalidClientTokenId(), "InvalidClientTokenId", 403},
		{InternalFailure(), "InternalFailure", 500},
	}
	for _, tt := range tests {
		if tt.err.Code != tt.code || tt.err.Status != tt.status || tt.err.Message == "" {
			t.Errorf("%+v, want code %s status %d and a message", tt.err, tt.code, tt.status)
		}
	}
}
