package instances

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/netip"
	"strings"
	"unicode"
	"unicode/utf8"

	"kumo/images"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/store"
	"kumo/tags"
)

// MaxUserData is EC2's limit on user data, before base64 encoding.
const MaxUserData = 16 * 1024

// RunRequest asks for MinCount to MaxCount new instances of one image.
type RunRequest struct {
	Owner    string // the account the instances belong to
	Image    string // image id or name
	Type     string
	MinCount int
	MaxCount int
	Name     string
	UserData []byte
	// KeyName is the key pair guests are given, "" for none. The caller
	// checks that it names one of Owner's: key pairs are not this
	// package's.
	KeyName string
	// Tags are given to every instance. An instance's name is its Name
	// tag: a Name tag names the instances, and Name tags them.
	Tags []tags.Tag
}

// Run validates req, records the new instances as pending and starts
// launching them. It launches as many as the limit allows between MinCount
// and MaxCount, or none.
func (s *Service) Run(ctx context.Context, req RunRequest) ([]Instance, error) {
	typ, err := s.validateRun(req)
	if err != nil {
		return nil, err
	}
	if req.Name, req.Tags, err = nameAndTags(req); err != nil {
		return nil, err
	}
	im, err := s.images.Resolve(ctx, req.Image)
	if err != nil {
		return nil, err
	}
	net, err := s.driver.Network(ctx, s.cfg.Network)
	if err != nil {
		return nil, fmt.Errorf("host network %s: %w", s.cfg.Network, err)
	}
	pool, err := poolOf(net.Name, net.CIDR, net.Gateway)
	if err != nil {
		return nil, err
	}
	count := req.MaxCount
	// A first guess at how many fit; CreateInstances checks for real.
	if live, err := s.store.LiveInstances(ctx); err == nil {
		if room := s.cfg.MaxInstances - live; room < count {
			count = max(room, req.MinCount)
		}
	}
	now := s.clock.Now()
	rows := make([]store.Instance, count)
	for i := range rows {
		rows[i] = store.Instance{
			ID: ids.New("i"), Owner: req.Owner, Name: req.Name, ImageID: im.ID, Type: typ.Name, State: string(Pending),
			Host: s.cfg.Host, MAC: randomMAC(), UserData: req.UserData, KeyName: req.KeyName, LaunchedAt: now, UpdatedAt: now,
		}
	}
	created, err := s.store.CreateInstances(ctx, pool, s.cfg.MaxInstances, rows, tagRows(rows, req.Tags)...)
	switch {
	case errors.Is(err, store.ErrLimit):
		return nil, errs.New(errs.InstanceLimit,
			"you have requested more instances (%d) than your current instance limit of %d allows", req.MinCount, s.cfg.MaxInstances)
	case errors.Is(err, store.ErrExhausted):
		return nil, errs.New(errs.InsufficientSpace, "the network %s has no free address for %d more instance(s)", net.Name, count)
	case errors.Is(err, store.ErrNotFound):
		return nil, errs.New(images.ErrNotFound, "the image %s was deregistered during the launch", im.ID)
	case err != nil:
		return nil, err
	}
	out := make([]Instance, len(created))
	for i, r := range created {
		s.log.Info("instance pending", "instance", r.ID, "image", im.ID, "type", r.Type, "ip", r.PrivateIP)
		out[i] = view(r)
		s.changed(r.ID, Pending)
		s.kick(r.ID)
	}
	return out, nil
}

func (s *Service) validateRun(req RunRequest) (Type, error) {
	typ, ok := LookupType(req.Type)
	if req.Type == "" {
		return Type{}, errs.New(errs.MissingParameter, "the instance type is required")
	}
	if !ok {
		return Type{}, errs.New(errs.InvalidParameter, "invalid value '%s' for InstanceType", req.Type)
	}
	if req.MinCount < 1 || req.MaxCount < 1 {
		return Type{}, errs.New(errs.InvalidParameter, "the instance count must be at least 1")
	}
	if req.MinCount > req.MaxCount {
		return Type{}, errs.New(errs.InvalidParameter, "MinCount (%d) is greater than MaxCount (%d)", req.MinCount, req.MaxCount)
	}
	if req.MinCount > s.cfg.MaxInstances {
		return Type{}, errs.New(errs.InstanceLimit,
			"you have requested more instances (%d) than your current instance limit of %d allows", req.MinCount, s.cfg.MaxInstances)
	}
	if len(req.UserData) > MaxUserData {
		return Type{}, errs.New(errs.InvalidParameter, "user data is limited to %d bytes, got %d", MaxUserData, len(req.UserData))
	}
	if utf8.RuneCountInString(req.Name) > 255 || strings.IndexFunc(req.Name, unicode.IsControl) >= 0 {
		return Type{}, errs.New(errs.InvalidParameter, "the name must be at most 255 printable characters")
	}
	return typ, nil
}

func liveStates() []string {
	return []string{string(Pending), string(Running), string(Stopping), string(Stopped), string(ShuttingDown)}
}

func poolOf(network, cidr, gateway string) (store.Pool, error) {
	prefix, err := netip.ParsePrefix(cidr)
	if err != nil {
		return store.Pool{}, fmt.Errorf("network %s has no usable subnet %q: %w", network, cidr, err)
	}
	pool := store.Pool{Network: network, Prefix: prefix}
	if gw, err := netip.ParseAddr(gateway); err == nil {
		pool.Reserved = append(pool.Reserved, gw)
	}
	return pool, nil
}

// randomMAC returns a locally administered address in QEMU's 52:54:00 range.
func randomMAC() string {
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2])
}
