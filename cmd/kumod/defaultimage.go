package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"

	"kumo/images"
	"kumo/images/tiny"
)

// DefaultImageName is the image every fresh kumo has.
const DefaultImageName = "kumo-tiny"

// ensureDefaultImage builds kumo-tiny (skipped when its inputs have not
// changed) and registers it unless an image by that name already exists.
func ensureDefaultImage(ctx context.Context, im *images.Service, cache string, log *slog.Logger) error {
	if _, err := im.Resolve(ctx, DefaultImageName); err == nil {
		return nil
	} else if !errors.Is(err, images.ErrNotFound) {
		return err
	}
	log.Info("building the default image", "name", DefaultImageName, "dir", cache)
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
	req := images.RegisterRequest{Name: DefaultImageName, Description: "kumo's tiny Linux: busybox, HTTP on port 80, serial shell", DiskFormat: "qcow2"}
	if req.Kernel, err = put(art.Kernel); err != nil {
		return err
	}
	if req.Initrd, err = put(art.Initrd); err != nil {
		return err
	}
	if req.Disk, err = put(art.Disk); err != nil {
		return err
	}
	req.Cmdline = tiny.Cmdline
	reg, err := im.Register(ctx, req)
	if err != nil {
		return err
	}
	log.Info("default image registered", "image", reg.ID, "name", reg.Name)
	return nil
}
