package api

import (
	"errors"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"time"

	"kumo/api/ec2query"
	"kumo/api/elbquery"
	"kumo/internal/ids"
	"kumo/loadbalancer"
	"kumo/loadbalancer/manager"
)

// Result shapes, with the element names of the ELB service model.

type elbListener struct {
	Protocol         string
	LoadBalancerPort int
	InstanceProtocol string
	InstancePort     int
}

type elbListenerDescription struct {
	Listener    elbListener
	PolicyNames elbquery.List[string]
}

type elbHealthCheck struct {
	Target             string
	Interval           int
	Timeout            int
	UnhealthyThreshold int
	HealthyThreshold   int
}

type elbInstance struct {
	InstanceID string `xml:"InstanceId"`
}

type elbDescription struct {
	LoadBalancerName     string
	DNSName              string
	ListenerDescriptions elbquery.List[elbListenerDescription]
	AvailabilityZones    elbquery.List[string]
	Subnets              elbquery.List[string]
	SecurityGroups       elbquery.List[string]
	Instances            elbquery.List[elbInstance]
	HealthCheck          elbHealthCheck
	CreatedTime          elbquery.Time
	Scheme               string
}

// elbDefaultHealth is classic ELB's health check for a load balancer
// created without one: TCP on the instance port, every 30 s.
var elbDefaultHealth = loadbalancer.HealthCheck{Protocol: "TCP", Interval: 30 * time.Second, Timeout: 5 * time.Second,
	HealthyThreshold: 10, UnhealthyThreshold: 2}

func (s *Server) elbCreateLoadBalancer(c *elbCall) (any, error) {
	name, err := c.req.String("LoadBalancerName")
	if err != nil {
		return nil, err
	}
	listeners, err := elbListeners(c.req)
	if err != nil {
		return nil, err
	}
	zones, err := c.req.Strings("AvailabilityZones.member")
	if err != nil {
		return nil, err
	}
	for _, z := range zones {
		if z != s.zone {
			return nil, elbquery.ValidationError("Invalid Availability Zone: %s. This cloud has one zone: %s.", z, s.zone)
		}
	}
	if err := c.done(); err != nil {
		return nil, err
	}
	// Classic ELB leaves connection draining off unless asked: a
	// deregistered instance leaves at once.
	lb, err := s.lbs.For(c.account).Create(c.ctx, loadbalancer.Config{Name: name, Listeners: listeners, Health: elbDefaultHealth})
	if err != nil {
		return nil, err
	}
	return struct{ DNSName string }{elbDNSName(lb.BindAddr, c.host)}, nil
}

// elbListeners reads Listeners.member.N. kumo's load balancers forward
// TCP, so that is the only protocol on either side.
func elbListeners(q *ec2query.Request) ([]loadbalancer.Listener, error) {
	n, err := q.Members("Listeners.member")
	if err != nil {
		return nil, err
	}
	if n == 0 {
		return nil, ec2query.MissingParameter("Listeners")
	}
	out := make([]loadbalancer.Listener, n)
	for i := range out {
		p := "Listeners.member." + strconv.Itoa(i+1) + "."
		protocol, err := q.String(p + "Protocol")
		if err != nil {
			return nil, err
		}
		instanceProtocol, given := q.OptionalString(p + "InstanceProtocol")
		if !strings.EqualFold(protocol, "TCP") || given && !strings.EqualFold(instanceProtocol, "TCP") {
			return nil, elbquery.ValidationError("Listener %d: only TCP is supported, on both sides: kumo's load balancers work at layer 4.", i+1)
		}
		if out[i].Port, err = q.Int(p+"LoadBalancerPort", 1, 65535); err != nil {
			return nil, err
		}
		if out[i].TargetPort, err = q.Int(p+"InstancePort", 1, 65535); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// elbDNSName is the name clients reach a load balancer by: its bind
// address, or, when it binds every address, the host the caller reached
// this API at.
func elbDNSName(bindAddr, apiHost string) string {
	if a, err := netip.ParseAddr(bindAddr); err != nil || !a.IsUnspecified() {
		return bindAddr
	}
	if host, _, err := net.SplitHostPort(apiHost); err == nil {
		return host
	}
	return apiHost
}

func (s *Server) elbDeleteLoadBalancer(c *elbCall) (any, error) {
	name, err := c.req.String("LoadBalancerName")
	if err != nil {
		return nil, err
	}
	if err := c.done(); err != nil {
		return nil, err
	}
	// Deleting what does not exist succeeds, as on AWS.
	if elbCheckName(name) != nil {
		return nil, nil
	}
	if err := s.lbs.For(c.account).Delete(c.ctx, name); err != nil && !errors.Is(err, manager.ErrNotFound) {
		return nil, err
	}
	return nil, nil
}

// elbCheckName refuses a name shaped like a load balancer id. The manager
// finds load balancers by id too, which ELB does not know of; no load
// balancer has such a name.
func elbCheckName(name string) error {
	if ids.Valid("lb", name) {
		return elbquery.LoadBalancerNotFound("There is no ACTIVE Load Balancer named '%s'", name)
	}
	return nil
}

func (s *Server) elbDescribeLoadBalancers(c *elbCall) (any, error) {
	names, err := c.req.Strings("LoadBalancerNames.member")
	if err != nil {
		return nil, err
	}
	pageSize, _, err := c.req.OptionalInt("PageSize", 1, 400)
	if err != nil {
		return nil, err
	}
	marker, _ := c.req.OptionalString("Marker")
	if err := c.done(); err != nil {
		return nil, err
	}
	lbs := s.lbs.For(c.account)
	var list []manager.LoadBalancer
	if len(names) == 0 {
		if list, err = lbs.List(c.ctx); err != nil {
			return nil, err
		}
	}
	seen := map[string]bool{}
	for _, name := range names {
		if seen[name] {
			continue
		}
		seen[name] = true
		if err := elbCheckName(name); err != nil {
			return nil, err
		}
		lb, err := lbs.Get(c.ctx, name)
		if err != nil {
			return nil, err
		}
		list = append(list, lb)
	}
	// A page's marker is the name of the load balancer that starts the
	// next one: the list is in order of creation, so pages neither skip
	// nor repeat one while others come and go.
	if marker != "" {
		start := slices.IndexFunc(list, func(lb manager.LoadBalancer) bool { return lb.Name == marker })
		if start < 0 {
			return nil, elbquery.ValidationError("Invalid Marker: no load balancer '%s' starts the next page any longer.", marker)
		}
		list = list[start:]
	}
	out := struct {
		LoadBalancerDescriptions elbquery.List[elbDescription]
		NextMarker               string `xml:",omitempty"`
	}{}
	if pageSize > 0 && len(list) > pageSize {
		out.NextMarker, list = list[pageSize].Name, list[:pageSize]
	}
	out.LoadBalancerDescriptions = make(elbquery.List[elbDescription], len(list))
	for i, lb := range list {
		out.LoadBalancerDescriptions[i] = s.elbDescribe(lb, c.host)
	}
	return out, nil
}

func (s *Server) elbDescribe(lb manager.LoadBalancer, apiHost string) elbDescription {
	d := elbDescription{
		LoadBalancerName:     lb.Name,
		DNSName:              elbDNSName(lb.BindAddr, apiHost),
		ListenerDescriptions: make(elbquery.List[elbListenerDescription], len(lb.Listeners)),
		AvailabilityZones:    elbquery.List[string]{s.zone},
		Subnets:              elbquery.List[string]{},
		SecurityGroups:       elbquery.List[string]{},
		Instances:            elbInstances(lb),
		HealthCheck:          elbHealthCheckOf(lb),
		CreatedTime:          elbquery.Time(lb.CreatedAt),
		Scheme:               "internet-facing",
	}
	for i, l := range lb.Listeners {
		d.ListenerDescriptions[i] = elbListenerDescription{
			Listener:    elbListener{Protocol: "TCP", LoadBalancerPort: l.Port, InstanceProtocol: "TCP", InstancePort: l.TargetPort},
			PolicyNames: elbquery.List[string]{},
		}
	}
	return d
}

func elbHealthCheckOf(lb manager.LoadBalancer) elbHealthCheck {
	h := lb.Health
	port := h.Port
	if port == 0 && len(lb.Listeners) > 0 {
		port = lb.Listeners[0].TargetPort
	}
	target := h.Protocol + ":" + strconv.Itoa(port)
	if h.Protocol == "HTTP" {
		target += h.Path
	}
	return elbHealthCheck{Target: target, Interval: int(h.Interval / time.Second), Timeout: int(h.Timeout / time.Second),
		UnhealthyThreshold: h.UnhealthyThreshold, HealthyThreshold: h.HealthyThreshold}
}

func (s *Server) elbConfigureHealthCheck(c *elbCall) (any, error) {
	name, err := c.req.String("LoadBalancerName")
	if err != nil {
		return nil, err
	}
	target, err := c.req.String("HealthCheck.Target")
	if err != nil {
		return nil, err
	}
	hc, err := elbParseTarget(target)
	if err != nil {
		return nil, err
	}
	// ELB's bounds, within which kumo's own hold.
	var interval, timeout int
	for _, f := range []struct {
		name     string
		min, max int
		dst      *int
	}{
		{"HealthCheck.Interval", 5, 300, &interval},
		{"HealthCheck.Timeout", 2, 60, &timeout},
		{"HealthCheck.UnhealthyThreshold", 2, 10, &hc.UnhealthyThreshold},
		{"HealthCheck.HealthyThreshold", 2, 10, &hc.HealthyThreshold},
	} {
		if *f.dst, err = c.req.Int(f.name, f.min, f.max); err != nil {
			return nil, err
		}
	}
	if timeout >= interval {
		return nil, elbquery.ValidationError("HealthCheck Interval must be greater than HealthCheck Timeout.")
	}
	hc.Interval, hc.Timeout = time.Duration(interval)*time.Second, time.Duration(timeout)*time.Second
	if err := c.done(); err != nil {
		return nil, err
	}
	if err := elbCheckName(name); err != nil {
		return nil, err
	}
	lb, err := s.lbs.For(c.account).Update(c.ctx, name, func(cfg *loadbalancer.Config) error {
		cfg.Health = hc
		return nil
	})
	if err != nil {
		return nil, err
	}
	return struct{ HealthCheck elbHealthCheck }{elbHealthCheckOf(lb)}, nil
}

// elbParseTarget reads a health check target: TCP:PORT, or HTTP:PORT/PATH
// (the path defaults to /). An HTTP check passes on 200 only, as ELB's.
func elbParseTarget(target string) (loadbalancer.HealthCheck, error) {
	bad := func(why string) (loadbalancer.HealthCheck, error) {
		return loadbalancer.HealthCheck{}, elbquery.ValidationError("Invalid HealthCheck Target '%s': %s", target, why)
	}
	protocol, rest, _ := strings.Cut(target, ":")
	portText, path := rest, ""
	if i := strings.IndexByte(rest, '/'); i >= 0 {
		portText, path = rest[:i], rest[i:]
	}
	port, err := strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 || portText != strconv.Itoa(port) {
		return bad("the port must be a number from 1 to 65535.")
	}
	hc := loadbalancer.HealthCheck{Protocol: strings.ToUpper(protocol), Port: port}
	switch hc.Protocol {
	case "TCP":
		if path != "" {
			return bad("a TCP target has no path.")
		}
	case "HTTP":
		hc.Path, hc.Matcher = path, "200"
		if hc.Path == "" {
			hc.Path = "/"
		}
	default:
		return bad("the protocol must be TCP or HTTP.")
	}
	return hc, nil
}
