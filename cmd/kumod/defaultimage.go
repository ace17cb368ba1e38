package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"kumo/images"
	"kumo/images/tiny"
	"kumo/store"
)

// DefaultImageName is the image every fresh kumo has.
const DefaultImageName = "kumo-tiny"

// ensureDefaultImage builds kumo-tiny (skipped when its inputs have not
// changed) and makes sure the image registered under that name is this
// build. An older build is replaced, like a new AMI version, unless
// instances still use it.
func ensureDefaultImage(ctx context.Context, im *images.Service, cache string, log *slog.Logger) error {
	art, err := tiny.Build(ctx, cache, os.Stderr)
	if err != nil {
		return err
	}
	put := func(path string) (string, error) {
		d, _, err := im.Blobs().PutFile(path)
		if err != nil {
			return "", fmt.Errorf("import %s: %w", path, err)
		}
		return d, nil
	}
	req := images.RegisterRequest{Name: DefaultImageName, Description: "kumo's tiny Linux: busybox, HTTP on port 80, serial shell",
		DiskFormat: "qcow2", Cmdline: tiny.Cmdline}
	if req.Kernel, err = put(art.Kernel); err != nil {
		return err
	}
	if req.Initrd, err = put(art.Initrd); err != nil {
		return err
	}
	if req.Disk, err = put(art.Disk); err != nil {
		return err
	}
	old, err := im.Resolve(ctx, DefaultImageName)
	switch {
	case err == nil && sameBuild(old, req):
		return nil
	case err == nil:
		if err := im.Deregister(ctx, old.ID); errors.Is(err, images.ErrInUse) {
			log.Warn("the default image is out of date but instances use it; keeping it", "image", old.ID)
			return nil
		} else if err != nil {
			return err
		}
		log.Info("replacing the default image with a new build", "old", old.ID)
	case !errors.Is(err, images.ErrNotFound):
		return err
	}
	reg, err := im.Register(ctx, req)
	if err != nil {
		return err
	}
	log.Info("default image registered", "image", reg.ID, "name", reg.Name)
	return nil
}

func sameBuild(im store.Image, req images.RegisterRequest) bool {
	return im.Kernel == req.Kernel && im.Initrd == req.Initrd && im.Disk == req.Disk && im.Cmdline == req.Cmdline
}
