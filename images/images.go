// Package images owns machine images: their files (in a content-addressed
// blob store), their registration and validation, and their life from
// available to deregistered. The default image builder lives in images/tiny.
//
// It must not know about instances beyond asking the store whether an image
// is still in use, nor about the hypervisor or the API.
package images

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"
	"unicode"

	"kumo/internal/clock"
	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/store"
)

// Error kinds of this package, mapped to EC2 codes by the API.
var (
	ErrNotFound  = errors.New("image not found")
	ErrMalformed = errors.New("malformed image id")
	ErrInUse     = errors.New("image in use")
	ErrDuplicate = errors.New("duplicate image name")
	// ErrNotOwner is a change to an image the caller may use but does not
	// own (the cloud's own images).
	ErrNotOwner = errors.New("not the image's owner")
)

// Image states.
const (
	StateAvailable    = "available"
	StateDeregistered = "deregistered"
)

// Service manages images.
type Service struct {
	store *store.Store
	blobs *Blobs
	clock clock.Clock
	log   *slog.Logger
}

// New returns a service keeping image files under dir.
func New(st *store.Store, dir string, clk clock.Clock, log *slog.Logger) (*Service, error) {
	b, err := openBlobs(dir)
	if err != nil {
		return nil, err
	}
	return &Service{store: st, blobs: b, clock: clk, log: log}, nil
}

// Blobs gives access to the image file store.
func (s *Service) Blobs() *Blobs { return s.blobs }

// RegisterRequest describes a new image by the digests of its files. An
// image boots either a kernel directly (Kernel set; Initrd and Disk
// optional) or from its disk (Disk alone).
type RegisterRequest struct {
	Name           string
	Description    string
	Kernel         string
	Initrd         string
	Disk           string
	DiskFormat     string
	Cmdline        string
	SourceInstance string
	Owner          string // the registering account; "" for the cloud's own
}

// Register validates req and records the image.
func (s *Service) Register(ctx context.Context, req RegisterRequest) (store.Image, error) {
	if err := s.validate(ctx, &req); err != nil {
		return store.Image{}, err
	}
	var size int64
	for _, d := range []string{req.Kernel, req.Initrd, req.Disk} {
		size += s.blobSize(d)
	}
	im := store.Image{
		ID: ids.New("ami"), Name: req.Name, Description: req.Description, State: StateAvailable,
		Kernel: req.Kernel, Initrd: req.Initrd, Disk: req.Disk, DiskFormat: req.DiskFormat,
		Cmdline: req.Cmdline, SizeBytes: size, SourceInstance: req.SourceInstance, CreatedAt: s.clock.Now(),
		Owner: req.Owner,
	}
	if err := s.store.InsertImage(ctx, im); err != nil {
		if errors.Is(err, store.ErrDuplicate) {
			return store.Image{}, errs.New(ErrDuplicate, "an image named %q already exists", req.Name)
		}
		return store.Image{}, err
	}
	s.log.Info("image registered", "image", im.ID, "name", im.Name)
	return im, nil
}

func (s *Service) validate(ctx context.Context, req *RegisterRequest) error {
	if err := validateName(req.Name); err != nil {
		return err
	}
	if len(req.Description) > 255 {
		return errs.New(errs.InvalidParameter, "the description is longer than 255 characters")
	}
	if req.Kernel == "" && req.Disk == "" {
		return errs.New(errs.MissingParameter, "an image needs a kernel or a bootable disk")
	}
	if req.Kernel == "" && (req.Initrd != "" || req.Cmdline != "") {
		return errs.New(errs.InvalidParameter, "an initrd or a kernel command line needs a kernel")
	}
	if len(req.Cmdline) > 1024 || strings.IndexFunc(req.Cmdline, unicode.IsControl) >= 0 {
		return errs.New(errs.InvalidParameter, "the kernel command line must be at most 1024 printable characters")
	}
	for _, part := range []struct{ what, digest string }{{"kernel", req.Kernel}, {"initrd", req.Initrd}, {"disk", req.Disk}} {
		if part.digest == "" {
			continue
		}
		if !ValidDigest(part.digest) {
			return errs.New(errs.InvalidParameter, "the %s must be a blob digest like sha256:<64 hex digits>, got %q", part.what, part.digest)
		}
		if !s.blobs.Has(part.digest) {
			return errs.New(errs.InvalidParameter, "no uploaded file has the %s digest %s", part.what, part.digest)
		}
	}
	if req.Kernel != "" {
		if err := checkKernel(s.blobs.Path(req.Kernel)); err != nil {
			return err
		}
	}
	if req.Disk == "" {
		if req.DiskFormat != "" {
			return errs.New(errs.InvalidParameter, "a disk format needs a disk")
		}
		return nil
	}
	_, err := checkDisk(ctx, s.blobs.Path(req.Disk), req.DiskFormat)
	return err
}

func (s *Service) blobSize(digest string) int64 {
	if digest == "" {
		return 0
	}
	return fileSize(s.blobs.Path(digest))
}

// Get returns an image by id, deregistered ones included.
func (s *Service) Get(ctx context.Context, id string) (store.Image, error) {
	if !ids.Valid("ami", id) {
		return store.Image{}, errs.New(ErrMalformed, "invalid image id %q", id)
	}
	im, err := s.store.Image(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Image{}, errs.New(ErrNotFound, "the image id '[%s]' does not exist", id)
	}
	return im, err
}

// Resolve finds an available image by id or by name, among the cloud's
// own images.
func (s *Service) Resolve(ctx context.Context, ref string) (store.Image, error) {
	return s.For("").Resolve(ctx, ref)
}

// List returns the available images.
func (s *Service) List(ctx context.Context) ([]store.Image, error) {
	return s.store.Images(ctx, StateAvailable)
}

// Deregister retires an image. It is refused while instances use it, so an
// instance's disk never loses the base it is layered on.
func (s *Service) Deregister(ctx context.Context, id string) error {
	if _, err := s.Get(ctx, id); err != nil {
		return err
	}
	n, err := s.store.DeregisterImage(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return errs.New(ErrNotFound, "the image %s is already deregistered", id)
	}
	if err != nil {
		return err
	}
	if n > 0 {
		return errs.New(ErrInUse, "the image %s is used by %d instance(s); terminate them first", id, n)
	}
	s.log.Info("image deregistered", "image", id)
	_, err = s.Sweep(ctx)
	return err
}

// SweepGrace is how long an unreferenced file is kept, so that an upload
// survives until the registration that follows it.
const SweepGrace = time.Hour

// Sweep deletes files no image or live instance needs any more.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	live, err := s.store.LiveBlobs(ctx)
	if err != nil {
		return 0, err
	}
	return s.blobs.Sweep(live, s.clock.Now().Add(-SweepGrace))
}

// Upload stores an uploaded file and returns its digest.
func (s *Service) Upload(r io.Reader, limit int64) (string, int64, error) {
	d, n, err := s.blobs.Put(r, limit)
	if err != nil {
		return "", 0, fmt.Errorf("upload: %w", err)
	}
	return d, n, nil
}
