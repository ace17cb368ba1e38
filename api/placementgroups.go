package api

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"kumo/api/wire"
	"kumo/instances"
	"kumo/store"
)

func viewPlacementGroup(g store.PlacementGroup) wire.PlacementGroup {
	return wire.PlacementGroup{ID: g.ID, Name: g.Name, Strategy: g.Strategy, Partitions: g.Partitions, CreatedAt: g.CreatedAt}
}

func (s *Server) listPlacementGroups(c echo.Context) error {
	list, err := s.instances.For(accountOf(c)).PlacementGroups(c.Request().Context())
	if err != nil {
		return err
	}
	out := wire.PlacementGroups{PlacementGroups: make([]wire.PlacementGroup, len(list))}
	for i, g := range list {
		out.PlacementGroups[i] = viewPlacementGroup(g)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) createPlacementGroup(c echo.Context) error {
	var req wire.CreatePlacementGroupRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	g, err := s.instances.For(accountOf(c)).CreatePlacementGroup(c.Request().Context(),
		instances.PlacementGroupRequest{Name: req.Name, Strategy: req.Strategy, Partitions: req.Partitions})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewPlacementGroup(g))
}

func (s *Server) deletePlacementGroup(c echo.Context) error {
	if err := s.instances.For(accountOf(c)).DeletePlacementGroup(c.Request().Context(), c.Param("name")); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
