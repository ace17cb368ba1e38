package api

import (
	"encoding/base64"
	"strconv"
	"time"

	"kumo/api/ec2query"
	"kumo/instances"
)

type ec2StatusDetail struct {
	Name   string `xml:"name"`
	Status string `xml:"status"`
}

type ec2StatusSummary struct {
	Status  string                         `xml:"status"`
	Details ec2query.List[ec2StatusDetail] `xml:"details"`
}

type ec2InstanceStatus struct {
	ID             string           `xml:"instanceId"`
	Zone           string           `xml:"availabilityZone"`
	State          ec2State         `xml:"instanceState"`
	SystemStatus   ec2StatusSummary `xml:"systemStatus"`
	InstanceStatus ec2StatusSummary `xml:"instanceStatus"`
}

// statusOf reports the status checks of a running instance: the system's
// fail while its host cannot be reached, and then nothing is known of the
// instance's own; otherwise both pass, since kumo's resync would have
// marked its domain lost. Other states have no checks, as on EC2.
func statusOf(in instances.Instance) (system, instance ec2StatusSummary) {
	if in.State != instances.Running {
		return ec2StatusSummary{Status: "not-applicable"}, ec2StatusSummary{Status: "not-applicable"}
	}
	if in.HostDown {
		return ec2StatusSummary{Status: "impaired", Details: ec2query.List[ec2StatusDetail]{{Name: "reachability", Status: "failed"}}},
			ec2StatusSummary{Status: "insufficient-data", Details: ec2query.List[ec2StatusDetail]{{Name: "reachability", Status: "insufficient-data"}}}
	}
	ok := ec2StatusSummary{Status: "ok", Details: ec2query.List[ec2StatusDetail]{{Name: "reachability", Status: "passed"}}}
	return ok, ok
}

// ec2DescribeInstanceStatus reports the status checks of the account's
// instances: running ones only, unless IncludeAllInstances.
func (s *Server) ec2DescribeInstanceStatus(c *ec2Call) (any, error) {
	ids, err := c.req.Strings("InstanceId")
	if err != nil {
		return nil, err
	}
	all, err := c.req.Bool("IncludeAllInstances")
	if err != nil {
		return nil, err
	}
	filters, err := c.req.Filters()
	if err != nil {
		return nil, err
	}
	page, err := readPage(c, 5, 1000)
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	list, err := s.instances.For(c.account).List(c.ctx, ids)
	if err != nil {
		return nil, err
	}
	var matched []ec2InstanceStatus
	for _, in := range list {
		if !all && in.State != instances.Running {
			continue
		}
		v := ec2InstanceStatus{ID: in.ID, Zone: s.zone, State: ec2StateOf(in.State)}
		v.SystemStatus, v.InstanceStatus = statusOf(in)
		ok, err := matchAll(filters, map[string]func() []string{
			"instance-id":            value(v.ID),
			"availability-zone":      value(v.Zone),
			"instance-state-name":    value(v.State.Name),
			"instance-state-code":    value(strconv.Itoa(v.State.Code)),
			"system-status.status":   value(v.SystemStatus.Status),
			"instance-status.status": value(v.InstanceStatus.Status),
		})
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, v)
		}
	}
	items, next := paginate(page, matched, func(v ec2InstanceStatus) string { return v.ID })
	return struct {
		Statuses  ec2query.List[ec2InstanceStatus] `xml:"instanceStatusSet"`
		NextToken string                           `xml:"nextToken,omitempty"`
	}{items, next}, nil
}

// ec2GetConsoleOutput returns what the guest printed on its serial
// console, base64-encoded.
func (s *Server) ec2GetConsoleOutput(c *ec2Call) (any, error) {
	id, err := c.req.String("InstanceId")
	if err != nil {
		return nil, err
	}
	if _, err := c.req.Bool("Latest"); err != nil {
		return nil, err
	}
	err = c.finish(func() error {
		_, err := s.instances.For(c.account).List(c.ctx, []string{id})
		return err
	})
	if err != nil {
		return nil, err
	}
	out, err := s.instances.ConsoleLog(c.ctx, id)
	if err != nil {
		return nil, err
	}
	return struct {
		ID        string        `xml:"instanceId"`
		Timestamp ec2query.Time `xml:"timestamp"`
		Output    string        `xml:"output"`
	}{id, ec2query.Time(time.Now()), base64.StdEncoding.EncodeToString(out)}, nil
}
