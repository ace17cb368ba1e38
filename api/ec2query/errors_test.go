package ec2query

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

func TestWriteError(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, "ea966190-f9aa-478e-9ede-example", &Error{
		Code:    "InvalidInstanceID.NotFound",
		Message: "The instance ID 'i-0000000000000000f' does not exist",
		Status:  http.StatusBadRequest,
	})
	const want = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Errors><Error><Code>InvalidInstanceID.NotFound</Code>` +
		`<Message>The instance ID 'i-0000000000000000f' does not exist</Message></Error></Errors>` +
		`<RequestID>ea966190-f9aa-478e-9ede-example</RequestID></Response>`
	if got := rec.Body.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
	if rec.Code != http.StatusBadRequest {
		t.Errorf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/xml;charset=UTF-8" {
		t.Errorf("Content-Type %q", ct)
	}
}

func TestWriteErrorEscapes(t *testing.T) {
	rec := httptest.NewRecorder()
	WriteError(rec, "r<1>", UnknownParameter("A&B</Message>\"'\x01\r\n\t\xff"))
	const want = `<?xml version="1.0" encoding="UTF-8"?>` + "\n" +
		`<Response><Errors><Error><Code>UnknownParameter</Code>` +
		"<Message>The parameter A&amp;B&lt;/Message&gt;\"'\uFFFD&#xD;\n\t\uFFFD is not recognized</Message></Error></Errors>" +
		`<RequestID>r&lt;1&gt;</RequestID></Response>`
	if got := rec.Body.String(); got != want {
		t.Errorf("got\n%s\nwant\n%s", got, want)
	}
}

func TestWriteErrorBadStatus(t *testing.T) {
	for _, status := range []int{0, 200, 302, 600} {
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
		{MissingAction(), "MissingAction", 400},
		{InvalidAction("Foo"), "InvalidAction", 400},
		{MissingParameter("ImageId"), "MissingParameter", 400},
		{UnknownParameter("Foo"), "UnknownParameter", 400},
		{InvalidParameterValue("bad %s", "x"), "InvalidParameterValue", 400},
		{InvalidParameterCombination("a and b"), "InvalidParameterCombination", 400},
		{AuthFailure("AWS was not able to validate the provided access credentials"), "AuthFailure", 401},
		{UnauthorizedOperation("You are not authorized to perform this operation."), "UnauthorizedOperation", 403},
		{RequestExpired("Request has expired."), "RequestExpired", 400},
		{DryRunOperation(), "DryRunOperation", 412},
		{RequestLimitExceeded(), "RequestLimitExceeded", 503},
		{InternalError(), "InternalError", 500},
		{Unavailable(), "Unavailable", 503},
		{noSuchVersion("2015-12-01"), "NoSuchVersion", 400},
		{malformedQueryString("x"), "MalformedQueryString", 400},
		{invalidCharacter("x"), "InvalidCharacter", 400},
		{methodNotAllowed("PUT"), "MethodNotAllowed", 405},
		{unsupportedMediaType("application/json"), "UnsupportedMediaType", 415},
		{requestTooLarge(10), "RequestEntityTooLarge", 413},
	}
	for _, tt := range tests {
		if tt.err.Code != tt.code || tt.err.Status != tt.status || tt.err.Message == "" {
			t.Errorf("%+v, want code %s status %d and a message", tt.err, tt.code, tt.status)
		}
	}
	if got := InvalidAction("Foo").Error(); got != "InvalidAction: The action Foo is not valid for this web service." {
		t.Errorf("Error() = %q", got)
	}
	if got := noSuchVersion("2015-12-01").Message; got != "The requested version (2015-12-01) of service AmazonEC2 does not exist" {
		t.Errorf("NoSuchVersion message %q", got)
	}
}
