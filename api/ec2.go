package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/labstack/echo/v4"

	"kumo/api/ec2query"
	"kumo/api/elbquery"
)

// EC2Auth checks the signature of a query API request (EC2's or ELB's)
// and names the account it speaks for. The API hands it the request, the
// body exactly as read, and the signing service the API expects: ec2 or
// elasticloadbalancing. A signature scoped to another service fails.
type EC2Auth interface {
	Authenticate(r *http.Request, body []byte, service string) (account string, err error)
}

// ec2Call is one EC2 request being served.
type ec2Call struct {
	ctx     context.Context
	req     *ec2query.Request
	account string
	host    string // the Host the client called, for endpoints in answers
}

// finish ends an action's reading of its parameters: it refuses any the
// action did not read, runs check (what the action would refuse; nil for
// nothing), and answers a DryRun with DryRunOperation. Past it, the action
// may change things.
func (c *ec2Call) finish(check func() error) error {
	dryRun, err := c.req.Bool("DryRun")
	if err != nil {
		return err
	}
	if unused := c.req.Unused(); len(unused) > 0 {
		// EC2 refuses a parameter an action does not take rather than
		// ignoring a misspelt one.
		return ec2query.UnknownParameter(unused[0])
	}
	if check != nil {
		if err := check(); err != nil {
			return err
		}
	}
	if dryRun {
		return ec2query.DryRunOperation()
	}
	return nil
}

// ec2Action serves one action and returns the response body.
type ec2Action func(s *Server, c *ec2Call) (any, error)

// ec2Actions is the whole EC2 surface, in one place.
var ec2Actions = map[string]ec2Action{
	"DescribeRegions":                (*Server).ec2DescribeRegions,
	"DescribeAvailabilityZones":      (*Server).ec2DescribeAvailabilityZones,
	"DescribeInstanceTypes":          (*Server).ec2DescribeInstanceTypes,
	"RunInstances":                   (*Server).ec2RunInstances,
	"DescribeInstances":              (*Server).ec2DescribeInstances,
	"StartInstances":                 (*Server).ec2StartInstances,
	"StopInstances":                  (*Server).ec2StopInstances,
	"RebootInstances":                (*Server).ec2RebootInstances,
	"TerminateInstances":             (*Server).ec2TerminateInstances,
	"DescribeInstanceStatus":         (*Server).ec2DescribeInstanceStatus,
	"GetConsoleOutput":               (*Server).ec2GetConsoleOutput,
	"DescribeImages":                 (*Server).ec2DescribeImages,
	"RegisterImage":                  (*Server).ec2RegisterImage,
	"DeregisterImage":                (*Server).ec2DeregisterImage,
	"CreateImage":                    (*Server).ec2CreateImage,
	"CreateLaunchTemplate":           (*Server).ec2CreateLaunchTemplate,
	"CreateLaunchTemplateVersion":    (*Server).ec2CreateLaunchTemplateVersion,
	"DescribeLaunchTemplates":        (*Server).ec2DescribeLaunchTemplates,
	"DescribeLaunchTemplateVersions": (*Server).ec2DescribeLaunchTemplateVersions,
	"ModifyLaunchTemplate":           (*Server).ec2ModifyLaunchTemplate,
	"DeleteLaunchTemplate":           (*Server).ec2DeleteLaunchTemplate,
	"CreatePlacementGroup":           (*Server).ec2CreatePlacementGroup,
	"DescribePlacementGroups":        (*Server).ec2DescribePlacementGroups,
	"DeletePlacementGroup":           (*Server).ec2DeletePlacementGroup,
	"CreateKeyPair":                  (*Server).ec2CreateKeyPair,
	"ImportKeyPair":                  (*Server).ec2ImportKeyPair,
	"DescribeKeyPairs":               (*Server).ec2DescribeKeyPairs,
	"DeleteKeyPair":                  (*Server).ec2DeleteKeyPair,
	"CreateTags":                     (*Server).ec2CreateTags,
	"DeleteTags":                     (*Server).ec2DeleteTags,
	"DescribeTags":                   (*Server).ec2DescribeTags,
}

var presignParams = []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Date", "X-Amz-SignedHeaders",
	"X-Amz-Signature", "X-Amz-Expires", "X-Amz-Security-Token"}

// maxEC2Body bounds an EC2 request: 16 KiB of user data, base64, is the
// largest parameter.
const maxEC2Body = 256 << 10

// ec2 serves the EC2 Query API: POST (or GET) / with Action=... The
// classic ELB API shares the path and the encoding; its requests, told
// apart by their Version, go to elb.
func (s *Server) ec2(c echo.Context) error {
	id := requestID(c)
	q, err := ec2query.ParseFor(c.Request(), maxEC2Body, ec2query.Version, elbquery.Version)
	if err != nil {
		return s.ec2Error(c, id, "", err)
	}
	if q.Version == elbquery.Version {
		return s.elb(c, id, q)
	}
	if s.ec2Auth == nil {
		return s.ec2Error(c, id, q.Action, ec2query.AuthFailure("This endpoint does not serve the EC2 API."))
	}
	account, err := s.ec2Auth.Authenticate(c.Request(), q.Body, "ec2")
	if err != nil {
		return s.ec2Error(c, id, q.Action, err)
	}
	// A presigned request carries its signature in the query: the check
	// above read it, so it is not an unknown parameter.
	for _, p := range presignParams {
		q.OptionalString(p)
	}
	action, ok := ec2Actions[q.Action]
	if !ok {
		return s.ec2Error(c, id, q.Action, ec2query.InvalidAction(q.Action))
	}
	if !s.throttle.allow(account, q.Action) {
		return s.ec2Error(c, id, q.Action, ec2query.RequestLimitExceeded())
	}
	body, err := action(s, &ec2Call{ctx: c.Request().Context(), req: q, account: account, host: c.Request().Host})
	if err != nil {
		return s.ec2Error(c, id, q.Action, err)
	}
	if err := ec2query.Write(c.Response(), q.Action, id, body); err != nil {
		s.log.Error("ec2 response", "request_id", id, "action", q.Action, "err", err)
	}
	return nil
}

// ec2Error answers with EC2's error document. Errors of the services take
// their code from the one table in errors.go; EC2 answers client errors
// with 400 whatever their REST status.
func (s *Server) ec2Error(c echo.Context, id, action string, err error) error {
	var qe *ec2query.Error
	if !errors.As(err, &qe) {
		status, body, internal := classify(err)
		if internal {
			s.log.Error("ec2 request failed", "request_id", id, "action", action, "err", err)
		}
		if status < http.StatusInternalServerError && status != http.StatusUnauthorized && status != http.StatusForbidden {
			status = http.StatusBadRequest
		}
		qe = &ec2query.Error{Code: body.Code, Message: body.Message, Status: status}
	}
	ec2query.WriteError(c.Response(), id, qe)
	return nil
}
