package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// tagsView is the answer of GET /api/v1/instances/:id/tags.
type tagsView struct {
	Tags []tagView `json:"tags"`
}

type tagView struct {
	Key   string `json:"key"`
	Value string `json:"value"`
}

// instanceTags answers an instance's tags, in the order of their keys.
func (s *Server) instanceTags(c echo.Context) error {
	if s.tags == nil {
		return echo.NewHTTPError(http.StatusNotFound, "this server keeps no tags")
	}
	ctx, id, account := c.Request().Context(), c.Param("id"), accountOf(c)
	if _, err := s.instances.For(account).Get(ctx, id); err != nil {
		return err
	}
	byID, err := s.tags.Of(ctx, account, []string{id})
	if err != nil {
		return err
	}
	out := tagsView{Tags: []tagView{}}
	for _, t := range byID[id] {
		out.Tags = append(out.Tags, tagView{Key: t.Key, Value: t.Value})
	}
	return c.JSON(http.StatusOK, out)
}
