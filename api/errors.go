package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"kumo/api/sigv4"
	"kumo/api/wire"
	"kumo/hosts"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/errs"
	"kumo/keypairs"
	"kumo/launchtemplates"
	"kumo/loadbalancer"
	"kumo/loadbalancer/manager"
	"kumo/tags"
)

// errorCodes maps error kinds to an HTTP status and an EC2 error code. It is
// the only place that decides how a failure looks on the wire; the first
// entry that matches wins.
var errorCodes = []struct {
	kind   error
	status int
	code   string
}{
	{instances.ErrNotFound, http.StatusNotFound, "InvalidInstanceID.NotFound"},
	{instances.ErrMalformed, http.StatusBadRequest, "InvalidInstanceID.Malformed"},
	{instances.ErrTokenMismatch, http.StatusBadRequest, "IdempotentParameterMismatch"},
	{images.ErrNotFound, http.StatusNotFound, "InvalidAMIID.NotFound"},
	{images.ErrMalformed, http.StatusBadRequest, "InvalidAMIID.Malformed"},
	{images.ErrInUse, http.StatusConflict, "InvalidAMIID.InUse"},
	{images.ErrDuplicate, http.StatusConflict, "InvalidAMIName.Duplicate"},
	{images.ErrNotOwner, http.StatusForbidden, "UnauthorizedOperation"},
	{instances.ErrGroupNotFound, http.StatusNotFound, "InvalidPlacementGroup.Unknown"},
	{instances.ErrGroupDuplicate, http.StatusConflict, "InvalidPlacementGroup.Duplicate"},
	{instances.ErrGroupInUse, http.StatusConflict, "InvalidPlacementGroup.InUse"},
	{launchtemplates.ErrNameNotFound, http.StatusBadRequest, "InvalidLaunchTemplateName.NotFoundException"},
	{launchtemplates.ErrIDNotFound, http.StatusBadRequest, "InvalidLaunchTemplateId.NotFound"},
	{launchtemplates.ErrVersionNotFound, http.StatusBadRequest, "InvalidLaunchTemplateId.VersionNotFound"},
	{launchtemplates.ErrDuplicate, http.StatusBadRequest, "InvalidLaunchTemplateName.AlreadyExistsException"},
	{launchtemplates.ErrMalformedName, http.StatusBadRequest, "InvalidLaunchTemplateName.MalformedException"},
	{keypairs.ErrNotFound, http.StatusNotFound, "InvalidKeyPair.NotFound"},
	{keypairs.ErrDuplicate, http.StatusConflict, "InvalidKeyPair.Duplicate"},
	{keypairs.ErrFormat, http.StatusBadRequest, "InvalidKeyPair.Format"},
	{tags.ErrInvalidID, http.StatusBadRequest, "InvalidID"},
	{tags.ErrLimitExceeded, http.StatusBadRequest, "TagLimitExceeded"},
	{manager.ErrNotFound, http.StatusNotFound, "LoadBalancerNotFound"},
	{manager.ErrDuplicateName, http.StatusConflict, "DuplicateLoadBalancerName"},
	{manager.ErrDuplicateListener, http.StatusConflict, "DuplicateListener"},
	{manager.ErrInvalidTarget, http.StatusBadRequest, "InvalidTarget"},
	{manager.ErrTargetNotRegistered, http.StatusBadRequest, "InvalidTarget"},
	{loadbalancer.ErrPortInUse, http.StatusConflict, "InvalidConfigurationRequest"},
	{hosts.ErrNotFound, http.StatusNotFound, "InvalidHostID.NotFound"},
	{hosts.ErrDuplicateName, http.StatusConflict, "InvalidHost.Duplicate"},
	{hosts.ErrDuplicateURI, http.StatusConflict, "InvalidHost.Duplicate"},
	{hosts.ErrInUse, http.StatusConflict, "InvalidHost.InUse"},
	{hosts.ErrClaimed, http.StatusConflict, "InvalidInstanceID.Conflict"},
	{hosts.ErrUnreachable, http.StatusServiceUnavailable, "HostUnreachable"},
	{errAdminOnly, http.StatusForbidden, "UnauthorizedOperation"},
	{errs.InvalidParameter, http.StatusBadRequest, "InvalidParameterValue"},
	{errs.MissingParameter, http.StatusBadRequest, "MissingParameter"},
	{errs.InstanceLimit, http.StatusBadRequest, "InstanceLimitExceeded"},
	{errs.LimitExceeded, http.StatusRequestEntityTooLarge, "LimitExceeded"},
	{errs.InsufficientSpace, http.StatusServiceUnavailable, "InsufficientInstanceCapacity"},
}

// authStatus is the HTTP status EC2 answers each signature failure with.
var authStatus = map[string]int{
	sigv4.CodeMissingAuthenticationToken: http.StatusForbidden,
	sigv4.CodeIncompleteSignature:        http.StatusBadRequest,
	sigv4.CodeAuthFailure:                http.StatusUnauthorized,
	sigv4.CodeSignatureDoesNotMatch:      http.StatusForbidden,
	sigv4.CodeRequestExpired:             http.StatusBadRequest,
}

// echo's own failures (unknown route, wrong method, body too large).
var httpCodes = map[int]string{
	http.StatusNotFound:              "NotFound",
	http.StatusMethodNotAllowed:      "MethodNotAllowed",
	http.StatusRequestEntityTooLarge: "RequestEntityTooLarge",
	http.StatusUnsupportedMediaType:  "UnsupportedMediaType",
	http.StatusBadRequest:            "InvalidRequest",
}

// classify turns any error into the Error the client sees. Unknown errors
// become InternalError without their text, which may hold host details.
func classify(err error) (status int, body wire.Error, internal bool) {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return authStatus[se.Code], wire.Error{Code: se.Code, Message: se.Message}, false
	}
	var ise *instances.IncorrectStateError
	if errors.As(err, &ise) {
		return http.StatusConflict, wire.Error{Code: "IncorrectInstanceState", Message: ise.Error()}, false
	}
	for _, m := range errorCodes {
		if errors.Is(err, m.kind) {
			return m.status, wire.Error{Code: m.code, Message: errs.Message(err)}, false
		}
	}
	var he *echo.HTTPError
	if errors.As(err, &he) {
		code, ok := httpCodes[he.Code]
		if !ok {
			code = http.StatusText(he.Code)
		}
		msg, _ := he.Message.(string)
		if msg == "" {
			msg = http.StatusText(he.Code)
		}
		return he.Code, wire.Error{Code: code, Message: msg}, false
	}
	return http.StatusInternalServerError, wire.Error{Code: "InternalError",
		Message: "an internal error occurred; the server log has the details under this request id"}, true
}

func (s *Server) handleError(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status, body, internal := classify(err)
	body.RequestID = requestID(c)
	if internal {
		s.log.Error("request failed", "request_id", body.RequestID, "method", c.Request().Method,
			"path", c.Request().URL.Path, "err", err)
	}
	c.JSON(status, wire.ErrorDocument{Error: &body})
}

func badRequest(format string, args ...any) error {
	return errs.New(errs.InvalidParameter, format, args...)
}
