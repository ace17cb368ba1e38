package hosts

import (
	"context"
	"errors"
	"math"
	"net/url"
	"regexp"
	"slices"
	"strings"

	"kumo/hypervisor"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/scheduler"
	"kumo/store"
)

const idPrefix = "h"

// MaxRatio bounds overcommit ratios: far beyond any sensible setting, and
// far from overflowing the capacity computed from it.
const MaxRatio = 1000

// Schemes are the libvirt URI schemes a host may be registered with:
// local or remote QEMU, and libvirt's simulated test driver.
var Schemes = []string{"qemu", "qemu+tcp", "qemu+ssh", "qemu+tls", "qemu+unix", "test"}

// RegisterRequest describes a new host.
type RegisterRequest struct {
	Name  string
	URI   string // e.g. qemu:///system, qemu+ssh://root@node2/system, test:///default
	Zone  string
	Netns string // network namespace of the host's data plane; "" for none
	// Reserved is kept back for the host itself; it must leave some of
	// each resource to instances.
	Reserved scheduler.Resources
	// Overcommit ratios; zero takes the service's defaults.
	CPURatio    float64
	MemoryRatio float64
}

var (
	// DNS-like, so names read well in listings and commands; lowercase,
	// so that two names never differ by case alone.
	namePattern  = regexp.MustCompile(`^[a-z0-9]([a-z0-9.-]{0,61}[a-z0-9])?$`)
	netnsPattern = regexp.MustCompile(`^[A-Za-z0-9_.-]{1,64}$`)
)

// validate checks what it can without reaching the host and fills in the
// default ratios.
func (s *Service) validate(req *RegisterRequest) error {
	switch {
	case req.Name == "":
		return errs.New(errs.MissingParameter, "a host needs a name")
	case !namePattern.MatchString(req.Name):
		return errs.New(errs.InvalidParameter, "invalid host name %q: use up to 63 lowercase letters, digits, dots and dashes, starting and ending with a letter or digit", req.Name)
	case ids.Valid(idPrefix, req.Name):
		return errs.New(errs.InvalidParameter, "invalid host name %q: it has the form of a host id", req.Name)
	case req.Zone == "":
		return errs.New(errs.MissingParameter, "host '%s' needs an availability zone", req.Name)
	case !namePattern.MatchString(req.Zone):
		return errs.New(errs.InvalidParameter, "invalid availability zone %q: use lowercase letters, digits, dots and dashes", req.Zone)
	case req.Netns != "" && (!netnsPattern.MatchString(req.Netns) || req.Netns == "." || req.Netns == ".."):
		return errs.New(errs.InvalidParameter, "invalid network namespace %q: use up to 64 letters, digits, dots, dashes and underscores", req.Netns)
	case req.Reserved.VCPUs < 0 || req.Reserved.MemoryMiB < 0:
		return errs.New(errs.InvalidParameter, "the reservation of host '%s' cannot be negative", req.Name)
	}
	if err := validateURI(req.URI); err != nil {
		return err
	}
	for _, r := range []struct {
		what  string
		ratio *float64
		def   float64
	}{{"CPU", &req.CPURatio, s.cfg.CPURatio}, {"memory", &req.MemoryRatio, s.cfg.MemoryRatio}} {
		if *r.ratio == 0 {
			*r.ratio = r.def
		}
		if math.IsNaN(*r.ratio) || *r.ratio <= 0 || *r.ratio > MaxRatio {
			return errs.New(errs.InvalidParameter, "the %s overcommit ratio must be above 0 and at most %d, not %g", r.what, MaxRatio, *r.ratio)
		}
	}
	return nil
}

func validateURI(uri string) error {
	if uri == "" {
		return errs.New(errs.MissingParameter, "a host needs a libvirt URI")
	}
	u, err := url.Parse(uri)
	if err != nil || u.Opaque != "" {
		return errs.New(errs.InvalidParameter, "invalid libvirt URI %q", uri)
	}
	if !slices.Contains(Schemes, u.Scheme) {
		return errs.New(errs.InvalidParameter, "libvirt URI %q: the scheme must be one of %s", uri, strings.Join(Schemes, ", "))
	}
	// Listings show the URI: it must not carry a secret.
	if _, set := u.User.Password(); set {
		return errs.New(errs.InvalidParameter, "libvirt URI %q: give credentials through libvirt's own configuration, not in the URI", uri)
	}
	if u.Scheme == "test" {
		if u.Host != "" || u.Path == "" {
			return errs.New(errs.InvalidParameter, "libvirt URI %q: a test host is test:///default or test:///path/to/host.xml", uri)
		}
		return nil
	}
	if u.Path != "/system" && u.Path != "/session" {
		return errs.New(errs.InvalidParameter, "libvirt URI %q: a QEMU host's path is /system or /session", uri)
	}
	switch {
	case u.Scheme == "qemu+unix":
		// A daemon on this machine at a socket of its own, as a simulated
		// host of kumo dev cluster is.
		if u.Host != "" || !strings.HasPrefix(u.Query().Get("socket"), "/") {
			return errs.New(errs.InvalidParameter, "libvirt URI %q: a unix socket host is qemu+unix:///system?socket=/absolute/path", uri)
		}
	case u.Scheme != "qemu" && u.Host == "":
		return errs.New(errs.InvalidParameter, "libvirt URI %q: a remote transport needs a host name", uri)
	}
	return nil
}

// Register validates req, connects to the host, reads its capacity and
// records it, enabled and up. The host must answer: the reservation is
// checked against what it reports.
func (s *Service) Register(ctx context.Context, req RegisterRequest) (Host, error) {
	if err := s.validate(&req); err != nil {
		return Host{}, err
	}
	s.registerMu.Lock()
	defer s.registerMu.Unlock()
	if err := s.checkFree(ctx, req); err != nil {
		return Host{}, err
	}
	drv, info, err := s.dial(ctx, req.URI)
	if err != nil {
		return Host{}, errs.New(ErrUnreachable, "cannot reach host '%s' at %s: %v", req.Name, req.URI, err)
	}
	if req.Reserved.VCPUs >= info.CPUs || req.Reserved.MemoryMiB >= int64(info.MemoryMiB) {
		drv.Close()
		return Host{}, errs.New(errs.InvalidParameter, "host '%s' has %d CPUs and %d MiB: a reservation of %d CPUs and %d MiB leaves instances nothing",
			req.Name, info.CPUs, info.MemoryMiB, req.Reserved.VCPUs, req.Reserved.MemoryMiB)
	}
	now := s.clock.Now()
	row := store.Host{
		ID: ids.New(idPrefix), Name: req.Name, URI: req.URI, Zone: req.Zone, Netns: req.Netns,
		State: string(StateEnabled), Health: string(HealthUp),
		ReservedVCPUs: req.Reserved.VCPUs, ReservedMemoryMiB: req.Reserved.MemoryMiB,
		CPURatio: req.CPURatio, MemoryRatio: req.MemoryRatio,
		HostReport: reportOf(info), CreatedAt: now, UpdatedAt: now,
	}
	if err := s.store.InsertHost(ctx, row); err != nil {
		drv.Close()
		if errors.Is(err, store.ErrDuplicate) {
			return Host{}, errs.New(ErrDuplicateName, "a host named '%s' already exists", req.Name)
		}
		return Host{}, err
	}
	c := newConn(row)
	c.drv = drv
	s.mu.Lock()
	s.conns[row.ID] = c
	s.ids[row.Name] = row.ID
	hooks := slices.Clone(s.hooks)
	s.mu.Unlock()
	s.log.Info("host registered", "host", row.ID, "name", row.Name, "uri", row.URI, "cpus", info.CPUs, "memory_mib", info.MemoryMiB)
	// A new host is up: its health changed from nothing.
	for _, fn := range hooks {
		fn(row.ID, true)
	}
	return view(store.HostLoad{Host: row}), nil
}

// checkFree refuses a taken name, and a URI another host has: two hosts
// for one machine would offer its capacity twice. Simulated hosts
// (test:///...) may share a URI, since each stands for its own machine.
func (s *Service) checkFree(ctx context.Context, req RegisterRequest) error {
	all, err := s.store.Hosts(ctx)
	if err != nil {
		return err
	}
	for _, h := range all {
		if h.Name == req.Name {
			return errs.New(ErrDuplicateName, "a host named '%s' already exists", req.Name)
		}
		if h.URI == req.URI && !strings.HasPrefix(req.URI, "test:") {
			return errs.New(ErrDuplicateURI, "host '%s' already has the URI %s", h.Name, req.URI)
		}
	}
	return nil
}

// Ensure registers the host req describes unless a host of that name
// exists, which it returns as it is: settings an operator changed since
// are kept. A host of that name with another URI is ErrDuplicateName.
// It makes a host configured at startup idempotent.
func (s *Service) Ensure(ctx context.Context, req RegisterRequest) (Host, error) {
	if err := s.validate(&req); err != nil {
		return Host{}, err
	}
	h, err := s.Get(ctx, req.Name)
	if errors.Is(err, ErrNotFound) {
		h, err = s.Register(ctx, req)
		if !errors.Is(err, ErrDuplicateName) {
			return h, err
		}
		// Registered by someone else meanwhile.
		h, err = s.Get(ctx, req.Name)
	}
	if err != nil {
		return Host{}, err
	}
	if h.URI != req.URI {
		return Host{}, errs.New(ErrDuplicateName, "host '%s' exists with the URI %s, not %s", req.Name, h.URI, req.URI)
	}
	return h, nil
}

// Drain stops placing instances on a host; those it holds stay.
func (s *Service) Drain(ctx context.Context, ref string) (Host, error) {
	return s.setState(ctx, ref, StateDraining)
}

// Enable lets a drained host take instances again.
func (s *Service) Enable(ctx context.Context, ref string) (Host, error) {
	return s.setState(ctx, ref, StateEnabled)
}

func (s *Service) setState(ctx context.Context, ref string, state State) (Host, error) {
	r, err := s.lookup(ctx, ref)
	if err != nil {
		return Host{}, err
	}
	if State(r.State) == state {
		return view(r), nil
	}
	if err := s.store.SetHostState(ctx, r.ID, string(state), s.clock.Now()); err != nil {
		return Host{}, err
	}
	s.log.Info("host "+string(state), "host", r.ID, "name", r.Name)
	return s.Get(ctx, r.ID)
}

// Remove forgets a host and closes its connection. It is refused with
// ErrInUse while instances hold capacity on the host.
func (s *Service) Remove(ctx context.Context, ref string) error {
	r, err := s.lookup(ctx, ref)
	if err != nil {
		return err
	}
	err = s.store.DeleteHost(ctx, r.ID)
	switch {
	case errors.Is(err, store.ErrHostInUse):
		return errs.New(ErrInUse, "host '%s' still holds instances: drain it and stop or terminate them first", r.Name)
	case errors.Is(err, store.ErrNotFound):
		return errs.New(ErrNotFound, "the host '%s' does not exist", ref)
	case err != nil:
		return err
	}
	s.mu.Lock()
	c := s.conns[r.ID]
	delete(s.conns, r.ID)
	delete(s.ids, r.Name)
	var drv hypervisor.Driver
	if c != nil {
		drv, c.drv = c.drv, nil
	}
	s.mu.Unlock()
	if drv != nil {
		drv.Close()
	}
	s.log.Info("host removed", "host", r.ID, "name", r.Name)
	return nil
}
