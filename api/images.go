package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"kumo/api/wire"
	"kumo/images"
	"kumo/store"
)

func viewImage(im store.Image) wire.Image {
	return wire.Image{
		ID: im.ID, Name: im.Name, Description: im.Description, State: im.State, Kernel: im.Kernel,
		Initrd: im.Initrd, Disk: im.Disk, DiskFormat: im.DiskFormat, Cmdline: im.Cmdline,
		SizeBytes: im.SizeBytes, SourceInstance: im.SourceInstance, CreatedAt: im.CreatedAt,
	}
}

func (s *Server) listImages(c echo.Context) error {
	list, err := s.images.For(ownerViewOf(c)).List(c.Request().Context())
	if err != nil {
		return err
	}
	out := wire.Images{Images: make([]wire.Image, len(list))}
	for i, im := range list {
		out.Images[i] = viewImage(im)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getImage(c echo.Context) error {
	im, err := s.images.For(ownerViewOf(c)).Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewImage(im))
}

// registerImage records an image from files uploaded before (POST
// /api/v1/blobs), named by digest: a client can never name a host path.
func (s *Server) registerImage(c echo.Context) error {
	var req wire.RegisterImageRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	im, err := s.images.For(ownerViewOf(c)).Register(c.Request().Context(), images.RegisterRequest{
		Name: req.Name, Description: req.Description, Kernel: req.Kernel, Initrd: req.Initrd,
		Disk: req.Disk, DiskFormat: req.DiskFormat, Cmdline: req.Cmdline,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewImage(im))
}

func (s *Server) deregisterImage(c echo.Context) error {
	if err := s.images.For(ownerViewOf(c)).Deregister(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) uploadBlob(c echo.Context) error {
	digest, size, err := s.images.Upload(c.Request().Body, s.maxUpload)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, wire.Blob{Digest: digest, Size: size})
}
