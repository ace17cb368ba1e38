// Package api serves kumo's REST API (JSON under /api/v1) with echo. It owns
// the wire: routes, request decoding and validation of shapes, JSON views of
// resources, request ids and the mapping of errors to codes.
//
// It holds no rules of its own: every decision is the services' (instances,
// images, the load balancer manager). It must not talk to the hypervisor or
// the store directly, nor run load balancers itself.
package api

import (
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"kumo/hosts"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/clock"
	"kumo/keypairs"
	"kumo/launchtemplates"
	"kumo/loadbalancer/manager"
	"kumo/tags"
)

// Server holds what the handlers need.
type Server struct {
	instances *instances.Service
	images    *images.Service
	lbs       *manager.Manager
	log       *slog.Logger
	// MaxUpload caps the size of one uploaded image file.
	maxUpload       int64
	ec2Auth         EC2Auth
	region          string
	zone            string
	keyPairs        *keypairs.Service
	launchTemplates *launchtemplates.Service
	tags            *tags.Service
	throttle        *throttle
	metrics         MetricsReader
	restAuth        RESTAuth
	hosts           *hosts.Service
	sessions        SessionAuth
	events          *hub
	done            <-chan struct{}
	clock           clock.Clock
}

// Options tune the API.
type Options struct {
	MaxUpload int64 // bytes; default 16 GiB
	// EC2Auth authenticates EC2 and ELB Query API requests; without it
	// both answer every request with an authentication failure.
	EC2Auth EC2Auth
	Region  string // default "local"
	Zone    string // the local host's availability zone; default "local-a"
	// KeyPairs serves the EC2 key pair actions and checks RunInstances'
	// KeyName; the EC2 API needs it.
	KeyPairs *keypairs.Service
	// LaunchTemplates serves the EC2 launch template actions and
	// RunInstances' LaunchTemplate; the EC2 API needs it.
	LaunchTemplates *launchtemplates.Service
	// Tags serves the EC2 tag actions and the tags of instances; the EC2
	// API needs it.
	Tags *tags.Service
	// Throttle limits each account's EC2 request rate; the zero value
	// does not limit.
	Throttle Throttle
	// Metrics answers GET /api/v1/instances/:id/metrics; without it that
	// endpoint answers 404.
	Metrics MetricsReader
	// RESTAuth tells which account sent a REST request; without it the
	// REST API refuses every request.
	RESTAuth RESTAuth
	// Hosts serves /api/v1/hosts to the administrator.
	Hosts *hosts.Service
	// Sessions signs people in to the browser console; the REST API then
	// also takes requests with its session cookie. Without it the
	// console's pages are not served.
	Sessions SessionAuth
	// Done, once closed, ends the event streams, which would otherwise
	// hold http.Server.Shutdown until its deadline.
	Done <-chan struct{}
	// Clock paces the event streams' heartbeats; default the wall clock.
	Clock clock.Clock
}

// New returns the HTTP handler of the API.
func New(inst *instances.Service, im *images.Service, lbs *manager.Manager, log *slog.Logger, opts Options) http.Handler {
	if opts.MaxUpload == 0 {
		opts.MaxUpload = 16 << 30
	}
	if opts.Region == "" {
		opts.Region = "local"
	}
	if opts.Zone == "" {
		opts.Zone = "local-a"
	}
	s := &Server{instances: inst, images: im, lbs: lbs, log: log, maxUpload: opts.MaxUpload,
		ec2Auth: opts.EC2Auth, region: opts.Region, zone: opts.Zone, keyPairs: opts.KeyPairs, launchTemplates: opts.LaunchTemplates,
		tags: opts.Tags, throttle: newThrottle(opts.Throttle, time.Now),
		metrics: opts.Metrics, restAuth: opts.RESTAuth, hosts: opts.Hosts,
		sessions: opts.Sessions, events: newHub(), done: opts.Done, clock: opts.Clock}
	if s.clock == nil {
		s.clock = clock.Real{}
	}
	inst.OnStateChange(s.events.publish)
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.HTTPErrorHandler = s.handleError
	e.Use(middleware.RequestIDWithConfig(middleware.RequestIDConfig{Generator: newRequestID}))
	e.Use(middleware.Recover())
	for _, r := range s.routes() {
		h := r.Handler
		if !r.Public {
			h = s.withAccount(h, r.Upload)
		}
		if !r.Upload {
			h = withBodyLimit(h, maxJSONBody)
		}
		e.Add(r.Method, r.Path, h)
	}
	return e
}

const maxJSONBody = 1 << 20

func withBodyLimit(h echo.HandlerFunc, n int64) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Request().Body = http.MaxBytesReader(c.Response(), c.Request().Body, n)
		return h(c)
	}
}

func newRequestID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func requestID(c echo.Context) string {
	return c.Response().Header().Get(echo.HeaderXRequestID)
}
