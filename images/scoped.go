package images

import (
	"context"
	"errors"
	"strings"

	"kumo/internal/errs"
	"kumo/store"
)

// Scoped is the images as one account sees them: the cloud's own, public
// to all, and the account's own, private to it. Another account's image is
// reported exactly as an image that does not exist. The administrator's
// view, owner "", sees every image by id and the cloud's own by name.
type Scoped struct {
	s     *Service
	owner string
}

// For returns the images as account owner sees them.
func (s *Service) For(owner string) Scoped { return Scoped{s: s, owner: owner} }

func (v Scoped) visible(im store.Image) bool {
	return v.owner == "" || im.Owner == "" || im.Owner == v.owner
}

// Get returns an image the account may see, deregistered ones included.
func (v Scoped) Get(ctx context.Context, id string) (store.Image, error) {
	im, err := v.s.Get(ctx, id)
	if err == nil && !v.visible(im) {
		return store.Image{}, errs.New(ErrNotFound, "the image id '[%s]' does not exist", id)
	}
	return im, err
}

// Resolve finds an available image the account may launch, by id or by
// name; a name finds the account's own image before the cloud's.
func (v Scoped) Resolve(ctx context.Context, ref string) (store.Image, error) {
	if strings.HasPrefix(ref, "ami-") {
		im, err := v.Get(ctx, ref)
		if err == nil && im.State != StateAvailable {
			return store.Image{}, errs.New(ErrNotFound, "the image %s is %s", ref, im.State)
		}
		return im, err
	}
	if ref == "" {
		return store.Image{}, errs.New(errs.MissingParameter, "an image id or name is required")
	}
	im, err := v.s.store.ImageByName(ctx, v.owner, ref)
	if errors.Is(err, store.ErrNotFound) {
		return store.Image{}, errs.New(ErrNotFound, "no available image is named %q", ref)
	}
	return im, err
}

// List returns the available images the account may launch.
func (v Scoped) List(ctx context.Context) ([]store.Image, error) {
	all, err := v.s.List(ctx)
	if err != nil {
		return nil, err
	}
	out := all[:0]
	for _, im := range all {
		if v.visible(im) {
			out = append(out, im)
		}
	}
	return out, nil
}

// Register records an image owned by the account.
func (v Scoped) Register(ctx context.Context, req RegisterRequest) (store.Image, error) {
	req.Owner = v.owner
	return v.s.Register(ctx, req)
}

// Deregister retires one of the account's own images.
func (v Scoped) Deregister(ctx context.Context, id string) error {
	im, err := v.Get(ctx, id)
	if err != nil {
		return err
	}
	if im.Owner != v.owner {
		return errs.New(ErrNotOwner, "the image %s is the cloud's own; only its administrator may deregister it", id)
	}
	return v.s.Deregister(ctx, id)
}
