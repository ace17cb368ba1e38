package api

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"kumo/images"
	"kumo/store"
)

type imageView struct {
	ID             string    `json:"id"`
	Name           string    `json:"name"`
	Description    string    `json:"description,omitempty"`
	State          string    `json:"state"`
	Kernel         string    `json:"kernel,omitempty"`
	Initrd         string    `json:"initrd,omitempty"`
	Disk           string    `json:"disk,omitempty"`
	DiskFormat     string    `json:"disk_format,omitempty"`
	Cmdline        string    `json:"cmdline,omitempty"`
	SizeBytes      int64     `json:"size_bytes"`
	SourceInstance string    `json:"source_instance,omitempty"`
	CreatedAt      time.Time `json:"created_at"`
}

func viewImage(im store.Image) imageView {
	return imageView{
		ID: im.ID, Name: im.Name, Description: im.Description, State: im.State, Kernel: im.Kernel,
		Initrd: im.Initrd, Disk: im.Disk, DiskFormat: im.DiskFormat, Cmdline: im.Cmdline,
		SizeBytes: im.SizeBytes, SourceInstance: im.SourceInstance, CreatedAt: im.CreatedAt,
	}
}

func (s *Server) listImages(c echo.Context) error {
	out, err := s.images.List(c.Request().Context())
	if err != nil {
		return err
	}
	views := make([]imageView, len(out))
	for i, im := range out {
		views[i] = viewImage(im)
	}
	return c.JSON(http.StatusOK, map[string]any{"images": views})
}

func (s *Server) getImage(c echo.Context) error {
	im, err := s.images.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewImage(im))
}

type registerRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Kernel      string `json:"kernel"`
	Initrd      string `json:"initrd"`
	Disk        string `json:"disk"`
	DiskFormat  string `json:"disk_format"`
	Cmdline     string `json:"cmdline"`
}

// registerImage records an image from files uploaded before (POST
// /api/v1/blobs), named by digest: a client can never name a host path.
func (s *Server) registerImage(c echo.Context) error {
	var req registerRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	im, err := s.images.Register(c.Request().Context(), images.RegisterRequest{
		Name: req.Name, Description: req.Description, Kernel: req.Kernel, Initrd: req.Initrd,
		Disk: req.Disk, DiskFormat: req.DiskFormat, Cmdline: req.Cmdline,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewImage(im))
}

func (s *Server) deregisterImage(c echo.Context) error {
	if err := s.images.Deregister(c.Request().Context(), c.Param("id")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

func (s *Server) uploadBlob(c echo.Context) error {
	digest, size, err := s.images.Upload(c.Request().Body, s.maxUpload)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, map[string]any{"digest": digest, "size": size})
}
