package instances

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/netip"
	"slices"
	"strconv"
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
	// ClientToken makes the launch idempotent: run again with the same
	// token and request, it answers the instances of the first launch.
	ClientToken string
	// PlacementGroup names one of Owner's placement groups, "" for none;
	// Partition picks a partition group's partition, 0 for any.
	PlacementGroup string
	Partition      int
}

// maxClientToken is EC2's limit on a client token's length.
const maxClientToken = 64

// hash fingerprints what req asks for, to tell a retry from another
// request reusing its client token.
func (req RunRequest) hash() string {
	h := sha256.New()
	field := func(s string) { fmt.Fprintf(h, "%d:%s;", len(s), s) }
	field(req.Image)
	field(req.Type)
	field(strconv.Itoa(req.MinCount))
	field(strconv.Itoa(req.MaxCount))
	field(req.Name)
	field(req.PlacementGroup)
	field(strconv.Itoa(req.Partition))
	field(string(req.UserData))
	field(req.KeyName)
	for _, t := range req.Tags {
		field(t.Key)
		field(t.Value)
	}
	return hex.EncodeToString(h.Sum(nil))
}

// Run validates req, records the new instances as pending and starts
// launching them. It launches as many as the limit allows between MinCount
// and MaxCount, or none.
func (s *Service) Run(ctx context.Context, req RunRequest) ([]Instance, error) {
	if req.ClientToken != "" {
		// A retry gets the first launch's answer even if its image has
		// gone since: check the token before anything else.
		if done, err := s.launchOf(ctx, req); done != nil || err != nil {
			return done, err
		}
	}
	typ, err := s.validateRun(req)
	if err != nil {
		return nil, err
	}
	if req.Name, req.Tags, err = nameAndTags(req); err != nil {
		return nil, err
	}
	im, err := s.images.For(req.Owner).Resolve(ctx, req.Image)
	if err != nil {
		return nil, err
	}
	count := req.MaxCount
	// A first guess at how many fit; CreateInstances checks for real.
	all, errAll := s.store.LiveInstances(ctx)
	owned, errOwned := s.store.LiveInstancesOf(ctx, req.Owner)
	if errAll == nil && errOwned == nil {
		if room := min(s.cfg.MaxInstances-all, s.cfg.MaxPerOwner-owned); room < count {
			count = max(room, req.MinCount)
		}
	}
	now := s.clock.Now()
	reservation := ids.New("r")
	instanceIDs := make([]string, count)
	for i := range instanceIDs {
		instanceIDs[i] = ids.New("i")
	}
	// Capacity first: the launch keeps as many instances as the hosts can
	// run, between MinCount and MaxCount, or fails whole.
	placement, err := s.placementOf(ctx, req.Owner, req.PlacementGroup, req.Partition)
	if err != nil {
		return nil, err
	}
	placed, err := s.capacity.Claim(ctx, placement, typ, instanceIDs, req.MinCount)
	if err != nil {
		return nil, err
	}
	unclaim := func() {
		if err := s.capacity.Release(context.WithoutCancel(ctx), instanceIDs[:len(placed)]...); err != nil {
			s.log.Error("release capacity of a failed launch", "err", err)
		}
	}
	hosts := make([]string, len(placed))
	for i, p := range placed {
		hosts[i] = p.Host
	}
	pools, err := s.poolsOf(ctx, hosts)
	if err != nil {
		unclaim()
		return nil, err
	}
	rows := make([]store.Instance, len(placed))
	for i := range rows {
		rows[i] = store.Instance{
			ID: instanceIDs[i], ReservationID: reservation, LaunchIndex: i, Owner: req.Owner, Name: req.Name, ImageID: im.ID, Type: typ.Name, State: string(Pending),
			Host: placed[i].Host, MAC: newMAC(), UserData: req.UserData, KeyName: req.KeyName, LaunchedAt: now, UpdatedAt: now,
			Partition: placed[i].Partition,
		}
		if g := placement.Group; g != nil {
			rows[i].PlacementGroup, rows[i].GroupName = g.ID, g.Name
		}
	}
	launch := store.Launch{Pools: pools, Instances: rows, Tags: tagRows(rows, req.Tags),
		MaxLive: s.cfg.MaxInstances, MaxOwned: s.cfg.MaxPerOwner}
	if req.ClientToken != "" {
		launch.Token = store.ClientToken{Owner: req.Owner, Token: req.ClientToken, RequestHash: req.hash(),
			ReservationID: reservation, CreatedAt: now}
	}
	// MAC addresses are drawn from 24 random bits: with thousands of live
	// instances a launch now and then draws one that is taken, and draws
	// again.
	created, err := s.store.CreateInstances(ctx, launch)
	for attempt := 0; errors.Is(err, store.ErrMACTaken) && attempt < macDraws; attempt++ {
		for i := range rows {
			rows[i].MAC = newMAC()
		}
		created, err = s.store.CreateInstances(ctx, launch)
	}
	if err != nil {
		unclaim()
	}
	switch {
	case errors.Is(err, store.ErrTokenUsed):
		// Another launch with the token won the race: answer as a retry.
		return s.launchOf(ctx, req)
	case errors.Is(err, store.ErrLimit):
		return nil, errs.New(errs.InstanceLimit,
			"you have requested more instances (%d) than your current instance limit of %d allows", req.MinCount, s.cfg.MaxInstances)
	case errors.Is(err, store.ErrOwnerLimit):
		return nil, errs.New(errs.InstanceLimit,
			"you have requested more instances (%d) than your account's instance limit of %d allows", req.MinCount, s.cfg.MaxPerOwner)
	case errors.Is(err, store.ErrExhausted):
		return nil, errs.New(errs.InsufficientSpace, "the network %s has no free address for %d more instance(s)", s.cfg.Network, count)
	case errors.Is(err, store.ErrNotFound):
		return nil, errs.New(images.ErrNotFound, "the image %s was deregistered during the launch", im.ID)
	case errors.Is(err, store.ErrGroupGone):
		return nil, errs.New(ErrGroupNotFound, "the placement group '%s' was deleted during the launch", req.PlacementGroup)
	case err != nil:
		return nil, err
	}
	out := make([]Instance, len(created))
	for i, r := range created {
		s.log.Info("instance pending", "instance", r.ID, "image", im.ID, "type", r.Type, "ip", r.PrivateIP)
		out[i] = s.view(r)
		s.changed(r.ID, Pending)
		s.kick(r.ID)
	}
	return out, nil
}

// poolsOf reads the address pool of each host's network.
func (s *Service) poolsOf(ctx context.Context, hosts []string) (map[string]store.Pool, error) {
	pools := map[string]store.Pool{}
	for _, host := range hosts {
		if _, ok := pools[host]; ok {
			continue
		}
		drv, err := s.driverOf(host)
		if err != nil {
			return nil, err
		}
		net, err := drv.Network(ctx, s.cfg.Network)
		if err != nil {
			return nil, fmt.Errorf("network %s of host %s: %w", s.cfg.Network, host, err)
		}
		if pools[host], err = poolOf(net.Name, net.CIDR, net.Gateway); err != nil {
			return nil, err
		}
	}
	return pools, nil
}

// launchOf answers a launch retried with its client token: the instances
// of the first launch as they are now, or nil when the token is new.
func (s *Service) launchOf(ctx context.Context, req RunRequest) ([]Instance, error) {
	if len(req.ClientToken) > maxClientToken || strings.IndexFunc(req.ClientToken, func(r rune) bool { return r < 0x20 || r > 0x7e }) >= 0 {
		return nil, errs.New(errs.InvalidParameter, "the client token must be at most %d printable ASCII characters", maxClientToken)
	}
	tok, err := s.store.ClientTokenOf(ctx, req.Owner, req.ClientToken)
	if errors.Is(err, store.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if tok.RequestHash != req.hash() {
		return nil, errs.New(ErrTokenMismatch, "the client token %q was used with other parameters", req.ClientToken)
	}
	rows, err := s.store.Instances(ctx, store.InstanceFilter{Owner: req.Owner, Reservation: tok.ReservationID})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(rows, func(a, b store.Instance) int { return a.LaunchIndex - b.LaunchIndex })
	out := make([]Instance, len(rows))
	for i, r := range rows {
		out[i] = s.view(r)
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
// macDraws is how many times a launch draws its MAC addresses again.
const macDraws = 8

// newMAC draws an instance's MAC address; tests draw their own.
var newMAC = randomMAC

func randomMAC() string {
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2])
}
