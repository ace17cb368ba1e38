package api

import (
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"kumo/api/ec2query"
	"kumo/api/elbquery"
)

// elbCodes renames, in ELB's terms, the codes the rest of the API answers
// with: errors.go's table of the services' errors, the signature checks
// and the query codec. A code not listed is ELB's as well (InvalidAction,
// MissingAction, IncompleteSignature, SignatureDoesNotMatch,
// MissingAuthenticationToken, RequestExpired) and keeps its status.
var elbCodes = map[string]func(format string, args ...any) *elbquery.Error{
	"LoadBalancerNotFound":      elbquery.LoadBalancerNotFound,
	"DuplicateLoadBalancerName": elbquery.DuplicateLoadBalancerName,
	// Ports are the host's: one taken by another load balancer is as
	// unavailable as one taken by any other program.
	"DuplicateListener":           elbquery.InvalidConfigurationRequest,
	"InvalidConfigurationRequest": elbquery.InvalidConfigurationRequest,
	"InvalidTarget":               elbquery.InvalidInstance,
	"InvalidInstanceID.NotFound":  elbquery.InvalidInstance,
	"InvalidInstanceID.Malformed": elbquery.InvalidInstance,
	"InvalidParameterValue":       elbquery.ValidationError,
	"InvalidParameterCombination": elbquery.ValidationError,
	"MissingParameter":            elbquery.ValidationError,
	"UnknownParameter":            elbquery.ValidationError,
	"InvalidCharacter":            elbquery.ValidationError,
	// ELB, like the other query services, names an unknown access key
	// InvalidClientTokenId where EC2 says AuthFailure.
	"AuthFailure":   func(string, ...any) *elbquery.Error { return elbquery.InvalidClientTokenId() },
	"InternalError": func(string, ...any) *elbquery.Error { return elbquery.InternalFailure() },
}

// elbError answers with ELB's error document.
func (s *Server) elbError(c echo.Context, id, action string, err error) error {
	var ee *elbquery.Error
	if !errors.As(err, &ee) {
		ee = s.elbErrorOf(id, action, err)
	}
	elbquery.WriteError(c.Response(), id, ee)
	return nil
}

func (s *Server) elbErrorOf(id, action string, err error) *elbquery.Error {
	var code, message string
	var status int
	var qe *ec2query.Error
	if errors.As(err, &qe) {
		code, message, status = qe.Code, qe.Message, qe.Status
	} else {
		st, body, internal := classify(err)
		if internal {
			s.log.Error("elb request failed", "request_id", id, "action", action, "err", err)
		}
		code, message, status = body.Code, body.Message, st
	}
	if rename, ok := elbCodes[code]; ok {
		return rename("%s", message)
	}
	// The REST statuses of the rest (404, 409...) are not ELB's: its client
	// errors are 400 but for the signature checks' 403.
	if status < http.StatusInternalServerError && status != http.StatusForbidden {
		status = http.StatusBadRequest
	}
	return &elbquery.Error{Code: code, Message: message, Status: status}
}
