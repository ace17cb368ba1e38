package api

import (
	"context"

	"github.com/labstack/echo/v4"

	"kumo/api/ec2query"
	"kumo/api/elbquery"
)

// elbService is the signing service of ELB requests; a signature scoped to
// another service, ec2 included, does not authenticate them.
const elbService = "elasticloadbalancing"

// elbCall is one classic ELB request being served. Every action works on
// the account's load balancers and instances only, another account's
// answering as ones that do not exist.
type elbCall struct {
	ctx     context.Context
	req     *ec2query.Request
	account string
	host    string // the Host the client called
}

// done refuses the request if it carries a parameter the action did not
// read, rather than dropping a misspelt one.
func (c *elbCall) done() error {
	if unused := c.req.Unused(); len(unused) > 0 {
		return ec2query.UnknownParameter(unused[0])
	}
	return nil
}

// elbAction serves one action and returns its result, nil for none.
type elbAction func(s *Server, c *elbCall) (any, error)

// elbActions is the whole classic ELB surface, in one place.
var elbActions = map[string]elbAction{
	"CreateLoadBalancer":                  (*Server).elbCreateLoadBalancer,
	"DeleteLoadBalancer":                  (*Server).elbDeleteLoadBalancer,
	"DescribeLoadBalancers":               (*Server).elbDescribeLoadBalancers,
	"ConfigureHealthCheck":                (*Server).elbConfigureHealthCheck,
	"RegisterInstancesWithLoadBalancer":   (*Server).elbRegisterInstances,
	"DeregisterInstancesFromLoadBalancer": (*Server).elbDeregisterInstances,
	"DescribeInstanceHealth":              (*Server).elbDescribeInstanceHealth,
}

// elb serves the classic ELB API. It shares POST / with EC2, whose handler
// has parsed the request and hands over those that name ELB's version.
func (s *Server) elb(c echo.Context, id string, q *ec2query.Request) error {
	if s.ec2Auth == nil {
		return s.elbError(c, id, q.Action, elbquery.InvalidClientTokenId())
	}
	account, err := s.ec2Auth.Authenticate(c.Request(), q.Body, elbService)
	if err != nil {
		return s.elbError(c, id, q.Action, err)
	}
	// A presigned request's signature, read by the check above.
	for _, p := range presignParams {
		q.OptionalString(p)
	}
	action, ok := elbActions[q.Action]
	if !ok {
		return s.elbError(c, id, q.Action, ec2query.InvalidAction(q.Action))
	}
	result, err := action(s, &elbCall{ctx: c.Request().Context(), req: q, account: account, host: c.Request().Host})
	if err != nil {
		return s.elbError(c, id, q.Action, err)
	}
	if err := elbquery.Write(c.Response(), q.Action, id, result); err != nil {
		s.log.Error("elb response", "request_id", id, "action", q.Action, "err", err)
	}
	return nil
}
