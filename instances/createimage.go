package instances

import (
	"context"
	"fmt"
	"os"
	"time"

	"kumo/images"
	"kumo/internal/errs"
	"kumo/store"
)

// ImageRequest names the image CreateImage makes. Unless NoReboot is set,
// a running instance is stopped for the copy and started again after, as
// EC2 does, so that the image holds a disk at rest.
type ImageRequest struct {
	Name        string
	Description string
	NoReboot    bool
}

// CreateImage saves an instance as a new image owned by the instance's
// owner: its root disk, with the base it was layered on merged in, becomes
// the new image's disk, so the image holds everything the instance wrote.
func (s *Service) CreateImage(ctx context.Context, id string, req ImageRequest) (store.Image, error) {
	in, err := s.get(ctx, id)
	if err != nil {
		return store.Image{}, err
	}
	if State(in.State) == Running {
		if req.NoReboot {
			// A copy of a disk a guest is writing could be torn.
			return store.Image{}, errs.New(errs.InvalidParameter,
				"the instance %s is running: kumo images a running instance only by stopping it, so NoReboot cannot be honoured", id)
		}
		if _, err := s.Stop(ctx, []string{id}, false); err != nil {
			return store.Image{}, err
		}
		// Started again whatever happens to the copy: the caller asked for
		// an image, not for a stopped instance.
		defer func() {
			if _, err := s.Start(context.WithoutCancel(ctx), []string{id}); err != nil {
				s.log.Warn("restart after creating an image failed", "instance", id, "err", err)
			}
		}()
		if err := s.awaitState(ctx, id, Stopped, s.cfg.StopTimeout+time.Minute); err != nil {
			return store.Image{}, err
		}
	}
	return s.imageStopped(ctx, id, req)
}

// awaitState waits for the instance to reach want, for at most limit.
func (s *Service) awaitState(ctx context.Context, id string, want State, limit time.Duration) error {
	states, stop := s.watch(id)
	defer stop()
	timeout := s.clock.After(limit)
	for {
		in, err := s.store.Instance(ctx, id)
		if err != nil {
			return err
		}
		if State(in.State) == want {
			return nil
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-timeout:
			return fmt.Errorf("instance %s still %s after %s, not %s", id, in.State, limit, want)
		case <-states:
		}
	}
}

func (s *Service) imageStopped(ctx context.Context, id string, r ImageRequest) (store.Image, error) {
	// Holding the instance's lock keeps a start from racing the copy.
	s.mu.Lock()
	l := s.lockFor(id)
	s.mu.Unlock()
	l.Lock()
	defer l.Unlock()
	in, err := s.get(ctx, id)
	if err != nil {
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
		Name: r.Name, Description: r.Description, Kernel: src.Kernel, Initrd: src.Initrd,
		Cmdline: src.Cmdline, SourceInstance: in.ID, Owner: in.Owner,
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
