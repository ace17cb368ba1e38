package instances

import (
	"context"
	"fmt"
	"os"

	"kumo/images"
	"kumo/store"
)

// CreateImage saves a stopped instance as a new image: its root disk, with
// the base it was layered on merged in, becomes the new image's disk, so the
// image holds everything the instance wrote.
func (s *Service) CreateImage(ctx context.Context, id, name, description string) (store.Image, error) {
	in, err := s.get(ctx, id)
	if err != nil {
		return store.Image{}, err
	}
	// Holding the instance's lock keeps a start from racing the copy.
	s.mu.Lock()
	l := s.lockFor(id)
	s.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	if in, err = s.get(ctx, id); err != nil {
		return store.Image{}, err
	}
	if State(in.State) != Stopped {
		return store.Image{}, &IncorrectStateError{ID: in.ID, State: State(in.State), Event: "imaged"}
	}
	src, err := s.store.Image(ctx, in.ImageID)
	if err != nil {
		return store.Image{}, err
	}
	req := images.RegisterRequest{
		Name: name, Description: description, Kernel: src.Kernel, Initrd: src.Initrd,
		Cmdline: src.Cmdline, SourceInstance: in.ID,
	}
	if src.Disk != "" {
		tmp, err := os.CreateTemp(s.disks.folder(in.ID), "image-*.qcow2")
		if err != nil {
			return store.Image{}, err
		}
		tmp.Close()
		defer os.Remove(tmp.Name())
		if err := s.disks.flatten(ctx, in.ID, tmp.Name()); err != nil {
			return store.Image{}, fmt.Errorf("create image from %s: %w", in.ID, err)
		}
		digest, _, err := s.images.Blobs().PutFile(tmp.Name())
		if err != nil {
			return store.Image{}, fmt.Errorf("create image from %s: %w", in.ID, err)
		}
		req.Disk, req.DiskFormat = digest, "qcow2"
	}
	return s.images.Register(ctx, req)
}
