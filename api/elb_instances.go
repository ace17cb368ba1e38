package api

import (
	"context"
	"strconv"

	"kumo/api/ec2query"
	"kumo/api/elbquery"
	"kumo/internal/ids"
	"kumo/loadbalancer"
	"kumo/loadbalancer/manager"
)

type elbInstanceState struct {
	InstanceID  string `xml:"InstanceId"`
	State       string
	ReasonCode  string
	Description string
}

// elbHealth is how each of kumo's target states reads in ELB's terms:
// InService only when healthy. A state not listed (a load balancer that is
// not running) is Unknown.
var elbHealth = map[loadbalancer.Health]elbInstanceState{
	loadbalancer.Healthy:   {State: "InService", ReasonCode: "N/A", Description: "N/A"},
	loadbalancer.Initial:   {State: "OutOfService", ReasonCode: "ELB", Description: "Instance registration is still in progress."},
	loadbalancer.Unhealthy: {State: "OutOfService", ReasonCode: "Instance", Description: "Instance has failed at least the UnhealthyThreshold number of health checks consecutively."},
	loadbalancer.Unused:    {State: "OutOfService", ReasonCode: "Instance", Description: "Instance is not running."},
	loadbalancer.Draining:  {State: "OutOfService", ReasonCode: "ELB", Description: "Instance deregistration currently in progress."},
}

func elbStateOf(t loadbalancer.TargetStats) elbInstanceState {
	st, ok := elbHealth[t.State]
	if !ok {
		st = elbInstanceState{State: "Unknown", ReasonCode: "ELB", Description: "A transient error occurred. Please try again later."}
	}
	st.InstanceID = t.ID
	if t.State != loadbalancer.Healthy && t.Description != "" {
		st.Description += " " + t.Description
	}
	return st
}

// elbInstances lists the instances registered with lb, leaving out
// address targets (registered through the REST API), which ELB cannot
// name, and instances on their way out.
func elbInstances(lb manager.LoadBalancer) elbquery.List[elbInstance] {
	out := elbquery.List[elbInstance]{}
	for _, t := range lb.Stats.Targets {
		if ids.Valid("i", t.ID) && t.State != loadbalancer.Draining {
			out = append(out, elbInstance{t.ID})
		}
	}
	return out
}

// elbInstanceIDs reads Instances.member.N.InstanceId.
func elbInstanceIDs(q *ec2query.Request) ([]string, error) {
	n, err := q.Members("Instances.member")
	if err != nil {
		return nil, err
	}
	out := make([]string, n)
	for i := range out {
		if out[i], err = q.String("Instances.member." + strconv.Itoa(i+1) + ".InstanceId"); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// elbChangeInstances reads the load balancer and the instances of a
// registration or deregistration, checks that the caller owns the
// instances, applies change to the caller's load balancers, and answers the
// instances registered afterwards.
func (s *Server) elbChangeInstances(c *elbCall, change func(ctx context.Context, ref string, targets []string) error) (any, error) {
	name, err := c.req.String("LoadBalancerName")
	if err != nil {
		return nil, err
	}
	instanceIDs, err := elbInstanceIDs(c.req)
	if err != nil {
		return nil, err
	}
	if len(instanceIDs) == 0 {
		return nil, ec2query.MissingParameter("Instances")
	}
	if err := c.done(); err != nil {
		return nil, err
	}
	if err := elbCheckName(name); err != nil {
		return nil, err
	}
	// Another account's instance reads as one that does not exist.
	if _, err := s.instances.For(c.account).List(c.ctx, instanceIDs); err != nil {
		return nil, err
	}
	if err := change(c.ctx, name, instanceIDs); err != nil {
		return nil, err
	}
	lb, err := s.lbs.For(c.account).Get(c.ctx, name)
	if err != nil {
		return nil, err
	}
	return struct{ Instances elbquery.List[elbInstance] }{elbInstances(lb)}, nil
}

func (s *Server) elbRegisterInstances(c *elbCall) (any, error) {
	return s.elbChangeInstances(c, s.lbs.For(c.account).Register)
}

func (s *Server) elbDeregisterInstances(c *elbCall) (any, error) {
	return s.elbChangeInstances(c, s.lbs.For(c.account).Deregister)
}

func (s *Server) elbDescribeInstanceHealth(c *elbCall) (any, error) {
	name, err := c.req.String("LoadBalancerName")
	if err != nil {
		return nil, err
	}
	instanceIDs, err := elbInstanceIDs(c.req)
	if err != nil {
		return nil, err
	}
	if err := c.done(); err != nil {
		return nil, err
	}
	if err := elbCheckName(name); err != nil {
		return nil, err
	}
	lb, err := s.lbs.For(c.account).Get(c.ctx, name)
	if err != nil {
		return nil, err
	}
	known := map[string]loadbalancer.TargetStats{}
	out := struct {
		InstanceStates elbquery.List[elbInstanceState]
	}{elbquery.List[elbInstanceState]{}}
	for _, t := range lb.Stats.Targets {
		if !ids.Valid("i", t.ID) {
			continue
		}
		known[t.ID] = t
		if len(instanceIDs) == 0 {
			out.InstanceStates = append(out.InstanceStates, elbStateOf(t))
		}
	}
	for _, id := range instanceIDs {
		t, ok := known[id]
		if !ok {
			return nil, elbquery.InvalidInstance("Could not find EC2 instance %s registered with load balancer '%s'.", id, name)
		}
		out.InstanceStates = append(out.InstanceStates, elbStateOf(t))
	}
	return out, nil
}
