package api

import (
	"encoding/base64"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"kumo/api/wire"
	"kumo/launchtemplates"
	"kumo/tags"
)

// templateRefOf reads a template named by id (lt-...) or by name.
func templateRefOf(ref string) launchtemplates.Ref {
	if strings.HasPrefix(ref, "lt-") {
		return launchtemplates.Ref{ID: ref}
	}
	return launchtemplates.Ref{Name: ref}
}

func dataOf(d wire.LaunchTemplateData) (launchtemplates.Data, error) {
	out := launchtemplates.Data{ImageID: d.ImageID, InstanceType: d.InstanceType, KeyName: d.KeyName}
	if d.UserData != "" {
		b, err := base64.StdEncoding.DecodeString(d.UserData)
		if err != nil {
			return out, badRequest("user_data must be base64-encoded")
		}
		out.UserData = b
	}
	for _, t := range d.Tags {
		out.Tags = append(out.Tags, tags.Tag{Key: t.Key, Value: t.Value})
	}
	return out, nil
}

func viewLaunchTemplateData(d launchtemplates.Data) wire.LaunchTemplateData {
	out := wire.LaunchTemplateData{ImageID: d.ImageID, InstanceType: d.InstanceType, KeyName: d.KeyName}
	if d.UserData != nil {
		out.UserData = base64.StdEncoding.EncodeToString(d.UserData)
	}
	for _, t := range d.Tags {
		out.Tags = append(out.Tags, wire.Tag{Key: t.Key, Value: t.Value})
	}
	return out
}

func viewLaunchTemplate(t launchtemplates.Template) wire.LaunchTemplate {
	return wire.LaunchTemplate{ID: t.ID, Name: t.Name, DefaultVersion: t.DefaultVersion, LatestVersion: t.LatestVersion, CreatedAt: t.CreatedAt}
}

func viewLaunchTemplateVersion(v launchtemplates.Version) wire.LaunchTemplateVersion {
	return wire.LaunchTemplateVersion{TemplateID: v.TemplateID, TemplateName: v.TemplateName, Version: v.Number, Default: v.Default,
		Description: v.Description, Data: viewLaunchTemplateData(v.Data), CreatedAt: v.CreatedAt}
}

func (s *Server) listLaunchTemplates(c echo.Context) error {
	list, err := s.launchTemplates.List(c.Request().Context(), accountOf(c), nil, nil)
	if err != nil {
		return err
	}
	out := wire.LaunchTemplates{LaunchTemplates: make([]wire.LaunchTemplate, len(list))}
	for i, t := range list {
		out.LaunchTemplates[i] = viewLaunchTemplate(t)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) createLaunchTemplate(c echo.Context) error {
	var req wire.CreateLaunchTemplateRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	data, err := dataOf(req.Data)
	if err != nil {
		return err
	}
	v, err := s.launchTemplates.Create(c.Request().Context(), accountOf(c), req.Name, req.Description, data)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewLaunchTemplateVersion(v))
}

func (s *Server) listLaunchTemplateVersions(c echo.Context) error {
	list, err := s.launchTemplates.Versions(c.Request().Context(), accountOf(c), templateRefOf(c.Param("ref")), nil, 0, 0)
	if err != nil {
		return err
	}
	out := wire.LaunchTemplateVersions{Versions: make([]wire.LaunchTemplateVersion, len(list))}
	for i, v := range list {
		out.Versions[i] = viewLaunchTemplateVersion(v)
	}
	return c.JSON(http.StatusOK, out)
}

func (s *Server) createLaunchTemplateVersion(c echo.Context) error {
	var req wire.CreateLaunchTemplateVersionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	data, err := dataOf(req.Data)
	if err != nil {
		return err
	}
	v, err := s.launchTemplates.CreateVersion(c.Request().Context(), accountOf(c), templateRefOf(c.Param("ref")),
		req.SourceVersion, req.Description, data)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewLaunchTemplateVersion(v))
}

func (s *Server) setLaunchTemplateDefault(c echo.Context) error {
	var req wire.SetDefaultVersionRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	t, err := s.launchTemplates.SetDefault(c.Request().Context(), accountOf(c), templateRefOf(c.Param("ref")), req.Version)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewLaunchTemplate(t))
}

func (s *Server) deleteLaunchTemplate(c echo.Context) error {
	if _, err := s.launchTemplates.Delete(c.Request().Context(), accountOf(c), templateRefOf(c.Param("ref"))); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}
