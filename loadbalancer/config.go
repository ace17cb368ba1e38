package loadbalancer

import (
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"kumo/internal/errs"
)

// Algorithm chooses the target of each new connection.
type Algorithm string

const (
	RoundRobin       Algorithm = "round_robin"
	LeastConnections Algorithm = "least_connections"
	SourceHash       Algorithm = "source_hash" // sticky by client IP
)

var algorithms = []Algorithm{RoundRobin, LeastConnections, SourceHash}

// Listener accepts connections on Port and forwards them to each target's
// TargetPort (or the target's own port, for address targets).
type Listener struct {
	Port       int `json:"port"`
	TargetPort int `json:"target_port"`
}

// HealthCheck says how targets are probed. The defaults are those of an AWS
// Network Load Balancer target group.
type HealthCheck struct {
	Protocol string `json:"protocol"` // TCP or HTTP
	// Port is the port probed; 0 means the traffic port.
	Port int    `json:"port,omitempty"`
	Path string `json:"path,omitempty"` // HTTP only
	// Matcher lists the HTTP status codes that count as healthy: "200",
	// "200,202" or "200-399".
	Matcher            string        `json:"matcher,omitempty"`
	Interval           time.Duration `json:"interval"`
	Timeout            time.Duration `json:"timeout"`
	HealthyThreshold   int           `json:"healthy_threshold"`
	UnhealthyThreshold int           `json:"unhealthy_threshold"`
}

// Config describes one load balancer.
type Config struct {
	ID   string
	Name string
	// BindAddr is the host address the listeners bind; default 127.0.0.1.
	BindAddr  string
	Listeners []Listener
	Algorithm Algorithm
	Health    HealthCheck
	// DeregistrationDelay is how long a deregistered target's open
	// connections may go on before they are closed. Zero closes them at
	// once; callers start new load balancers from
	// DefaultDeregistrationDelay.
	DeregistrationDelay time.Duration
	// IdleTimeout closes connections that carried no byte for this long.
	IdleTimeout time.Duration
	// ConnectTimeout bounds each attempt to reach a target; a failed
	// attempt moves on to the next target.
	ConnectTimeout time.Duration
	// ProxyProtocol sends a PROXY protocol v2 header to targets first, so
	// they see the client's address.
	ProxyProtocol bool
}

// Defaults, after AWS: NLB target groups for health and draining, the NLB
// TCP idle timeout.
const (
	DefaultBindAddr            = "127.0.0.1"
	DefaultDeregistrationDelay = 300 * time.Second
	DefaultIdleTimeout         = 350 * time.Second
	DefaultConnectTimeout      = 5 * time.Second
)

// DefaultHealthCheck returns the AWS defaults for the protocol.
func DefaultHealthCheck(protocol string) HealthCheck {
	hc := HealthCheck{Protocol: "TCP", Interval: 30 * time.Second, Timeout: 10 * time.Second,
		HealthyThreshold: 5, UnhealthyThreshold: 2}
	if strings.EqualFold(protocol, "HTTP") {
		hc.Protocol, hc.Path, hc.Matcher, hc.Timeout = "HTTP", "/", "200-399", 6*time.Second
	}
	return hc
}

// WithDefaults fills zero fields with their defaults, apart from the
// deregistration delay, where zero is a choice.
func (c Config) WithDefaults() Config {
	if c.BindAddr == "" {
		c.BindAddr = DefaultBindAddr
	}
	if c.Algorithm == "" {
		c.Algorithm = RoundRobin
	}
	c.Health = c.Health.withDefaults()
	if c.IdleTimeout == 0 {
		c.IdleTimeout = DefaultIdleTimeout
	}
	if c.ConnectTimeout == 0 {
		c.ConnectTimeout = DefaultConnectTimeout
	}
	return c
}

func (h HealthCheck) withDefaults() HealthCheck {
	d := DefaultHealthCheck(h.Protocol)
	if h.Protocol == "" {
		h.Protocol = d.Protocol
	}
	h.Protocol = strings.ToUpper(h.Protocol)
	if h.Path == "" {
		h.Path = d.Path
	}
	if h.Matcher == "" {
		h.Matcher = d.Matcher
	}
	if h.Interval == 0 {
		h.Interval = d.Interval
	}
	if h.Timeout == 0 {
		h.Timeout = d.Timeout
	}
	if h.HealthyThreshold == 0 {
		h.HealthyThreshold = d.HealthyThreshold
	}
	if h.UnhealthyThreshold == 0 {
		h.UnhealthyThreshold = d.UnhealthyThreshold
	}
	return h
}

// Validate reports the first problem with a config that has its defaults.
func (c Config) Validate() error {
	if _, err := netip.ParseAddr(c.BindAddr); err != nil {
		return errs.New(errs.InvalidParameter, "bind address %q is not an IP address", c.BindAddr)
	}
	if len(c.Listeners) == 0 {
		return errs.New(errs.MissingParameter, "a load balancer needs at least one listener")
	}
	seen := map[int]bool{}
	for _, l := range c.Listeners {
		if err := checkPort("listener port", l.Port); err != nil {
			return err
		}
		if err := checkPort("target port", l.TargetPort); err != nil {
			return err
		}
		if seen[l.Port] {
			return errs.New(errs.InvalidParameter, "listener port %d is given twice", l.Port)
		}
		seen[l.Port] = true
	}
	if !validAlgorithm(c.Algorithm) {
		return errs.New(errs.InvalidParameter, "algorithm %q is not one of %v", c.Algorithm, algorithms)
	}
	if c.DeregistrationDelay < 0 || c.DeregistrationDelay > time.Hour {
		return errs.New(errs.InvalidParameter, "deregistration delay must be between 0 s and 3600 s")
	}
	if c.IdleTimeout < time.Second || c.IdleTimeout > 24*time.Hour {
		return errs.New(errs.InvalidParameter, "idle timeout must be between 1 s and 24 h")
	}
	if c.ConnectTimeout < 10*time.Millisecond || c.ConnectTimeout > time.Minute {
		return errs.New(errs.InvalidParameter, "connect timeout must be between 10 ms and 60 s")
	}
	return c.Health.Validate()
}

// Validate checks a health check that has its defaults, with AWS's bounds.
func (h HealthCheck) Validate() error {
	switch h.Protocol {
	case "TCP", "HTTP":
	default:
		return errs.New(errs.InvalidParameter, "health check protocol %q is not TCP or HTTP", h.Protocol)
	}
	if h.Port != 0 {
		if err := checkPort("health check port", h.Port); err != nil {
			return err
		}
	}
	if h.Protocol == "HTTP" {
		if !strings.HasPrefix(h.Path, "/") || len(h.Path) > 1024 || strings.ContainsAny(h.Path, " \r\n") {
			return errs.New(errs.InvalidParameter, "health check path %q must start with / and hold no spaces", h.Path)
		}
		if _, err := parseMatcher(h.Matcher); err != nil {
			return err
		}
	}
	if h.Interval < time.Second || h.Interval > 5*time.Minute {
		return errs.New(errs.InvalidParameter, "health check interval must be between 1 s and 300 s")
	}
	if h.Timeout <= 0 || h.Timeout > h.Interval {
		return errs.New(errs.InvalidParameter, "health check timeout must be positive and at most the interval")
	}
	if h.HealthyThreshold < 2 || h.HealthyThreshold > 10 {
		return errs.New(errs.InvalidParameter, "healthy threshold must be between 2 and 10")
	}
	if h.UnhealthyThreshold < 2 || h.UnhealthyThreshold > 10 {
		return errs.New(errs.InvalidParameter, "unhealthy threshold must be between 2 and 10")
	}
	return nil
}

func validAlgorithm(a Algorithm) bool {
	for _, x := range algorithms {
		if a == x {
			return true
		}
	}
	return false
}

func checkPort(what string, p int) error {
	if p < 1 || p > 65535 {
		return errs.New(errs.InvalidParameter, "%s %d is not between 1 and 65535", what, p)
	}
	return nil
}

// statusRange is an inclusive range of HTTP status codes.
type statusRange struct{ lo, hi int }

func parseMatcher(m string) ([]statusRange, error) {
	var out []statusRange
	for _, part := range strings.Split(m, ",") {
		lo, hi, isRange := strings.Cut(strings.TrimSpace(part), "-")
		a, err1 := strconv.Atoi(lo)
		b := a
		var err2 error
		if isRange {
			b, err2 = strconv.Atoi(hi)
		}
		if err1 != nil || err2 != nil || a < 200 || b > 499 || a > b {
			return nil, errs.New(errs.InvalidParameter, "health check matcher %q must list codes or ranges within 200-499, like 200 or 200-399", m)
		}
		out = append(out, statusRange{a, b})
	}
	return out, nil
}

func matches(ranges []statusRange, code int) bool {
	for _, r := range ranges {
		if code >= r.lo && code <= r.hi {
			return true
		}
	}
	return false
}

// ParseListener reads "FRONT:TARGET" or "PORT" (same port on both sides).
func ParseListener(s string) (Listener, error) {
	front, back, found := strings.Cut(s, ":")
	if !found {
		back = front
	}
	f, err1 := strconv.Atoi(front)
	b, err2 := strconv.Atoi(back)
	if err1 != nil || err2 != nil {
		return Listener{}, errs.New(errs.InvalidParameter, "listener %q is not PORT or FRONT_PORT:TARGET_PORT", s)
	}
	l := Listener{Port: f, TargetPort: b}
	if err := checkPort("listener port", f); err != nil {
		return l, err
	}
	return l, checkPort("target port", b)
}

func (l Listener) String() string { return fmt.Sprintf("%d:%d", l.Port, l.TargetPort) }
