package api

import (
	"errors"
	"net/http"
	"path"

	"github.com/labstack/echo/v4"

	"kumo/api/wire"
	"kumo/hosts"
	"kumo/internal/errs"
	"kumo/scheduler"
)

// errAdminOnly is an action only the administrator may take: the hosts
// are the cloud's, not an account's.
var errAdminOnly = errors.New("administrators only")

func resourcesOf(r scheduler.Resources) wire.Resources {
	return wire.Resources{VCPUs: r.VCPUs, MemoryMiB: r.MemoryMiB}
}

func viewHost(h hosts.Host) wire.Host {
	return wire.Host{
		ID: h.ID, Name: h.Name, URI: h.URI, Zone: h.Zone, Netns: h.Netns, State: string(h.State), Health: string(h.Health),
		HealthReason: h.HealthReason, Arch: h.Arch, Reported: resourcesOf(h.Reported), Reserved: resourcesOf(h.Reserved),
		CPURatio: h.CPURatio, MemoryRatio: h.MemoryRatio, Capacity: resourcesOf(h.Capacity), Used: resourcesOf(h.Used),
		Instances: h.Instances, CreatedAt: h.CreatedAt,
	}
}

// fleetOf is the hosts for the administrator, and an error for anyone else.
func (s *Server) fleetOf(c echo.Context) (*hosts.Service, error) {
	if !callerOf(c).Admin {
		return nil, errs.New(errAdminOnly, "only the administrator manages hosts")
	}
	if s.hosts == nil {
		return nil, echo.NewHTTPError(http.StatusNotFound, "this server manages no hosts")
	}
	return s.hosts, nil
}

func (s *Server) listHosts(c echo.Context) error {
	fleet, err := s.fleetOf(c)
	if err != nil {
		return err
	}
	list, err := fleet.List(c.Request().Context())
	if err != nil {
		return err
	}
	out := wire.Hosts{Hosts: make([]wire.Host, len(list))}
	for i, h := range list {
		out.Hosts[i] = viewHost(h)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) getHost(c echo.Context) error {
	fleet, err := s.fleetOf(c)
	if err != nil {
		return err
	}
	h, err := fleet.Get(c.Request().Context(), c.Param("ref"))
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewHost(h))
}

func (s *Server) registerHost(c echo.Context) error {
	fleet, err := s.fleetOf(c)
	if err != nil {
		return err
	}
	var req wire.RegisterHostRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	h, err := fleet.Register(c.Request().Context(), hosts.RegisterRequest{
		Name: req.Name, URI: req.URI, Zone: req.Zone, Netns: req.Netns,
		Reserved: scheduler.Resources{VCPUs: req.Reserved.VCPUs, MemoryMiB: req.Reserved.MemoryMiB},
		CPURatio: req.CPURatio, MemoryRatio: req.MemoryRatio,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewHost(h))
}

// hostAction drains or enables a host.
func (s *Server) hostAction(c echo.Context) error {
	fleet, err := s.fleetOf(c)
	if err != nil {
		return err
	}
	ctx, ref := c.Request().Context(), c.Param("ref")
	var h hosts.Host
	if path.Base(c.Path()) == "drain" {
		h, err = fleet.Drain(ctx, ref)
	} else {
		h, err = fleet.Enable(ctx, ref)
	}
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewHost(h))
}

func (s *Server) removeHost(c echo.Context) error {
	fleet, err := s.fleetOf(c)
	if err != nil {
		return err
	}
	if err := fleet.Remove(c.Request().Context(), c.Param("ref")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
