package api

import (
	"encoding/base64"
	"net/http"
	"path"
	"strings"

	"github.com/labstack/echo/v4"

	"kumo/api/wire"
	"kumo/instances"
)

func stateOf(s instances.State) wire.State { return wire.State{Name: string(s), Code: s.Code()} }

func viewInstance(in instances.Instance) wire.Instance {
	v := wire.Instance{
		ID: in.ID, Name: in.Name, ImageID: in.ImageID, Type: in.Type.Name, VCPUs: in.Type.VCPUs,
		MemoryMiB: in.Type.MemoryMiB, State: stateOf(in.State),
		StateReason: in.StateReason, PrivateIP: in.PrivateIP, MAC: in.MAC, Host: in.Host, LaunchedAt: in.LaunchedAt,
		PlacementGroup: in.GroupName, Partition: in.Partition, HostUnreachable: in.HostDown,
	}
	if !in.TerminatedAt.IsZero() {
		t := in.TerminatedAt
		v.TerminatedAt = &t
	}
	return v
}

func viewInstances(list []instances.Instance) wire.Instances {
	out := wire.Instances{Instances: make([]wire.Instance, len(list))}
	for i, in := range list {
		out.Instances[i] = viewInstance(in)
	}
	return out
}

func (s *Server) runInstances(c echo.Context) error {
	var req wire.RunRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	minCount, maxCount, err := counts(req)
	if err != nil {
		return err
	}
	launch, err := dataOf(wire.LaunchTemplateData{ImageID: req.Image, InstanceType: req.Type, UserData: req.UserData})
	if err != nil {
		return err
	}
	if req.LaunchTemplate != "" {
		v, err := s.launchTemplates.Resolve(c.Request().Context(), accountOf(c), templateRefOf(req.LaunchTemplate), req.LaunchTemplateVersion)
		if err != nil {
			return err
		}
		launch = v.Data.Overlay(launch)
	} else if req.LaunchTemplateVersion != "" {
		return badRequest("launch_template_version needs a launch_template")
	}
	if launch.KeyName != "" {
		// A template's key pair must still be the caller's.
		if _, err := s.keyPairs.Get(c.Request().Context(), accountOf(c), launch.KeyName); err != nil {
			return err
		}
	}
	out, err := s.instances.For(accountOf(c)).Run(c.Request().Context(), instances.RunRequest{
		Image: launch.ImageID, Type: launch.InstanceType, MinCount: minCount, MaxCount: maxCount, Name: req.Name,
		UserData: launch.UserData, KeyName: launch.KeyName, Tags: launch.Tags,
		PlacementGroup: req.PlacementGroup, Partition: req.Partition,
	})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewInstances(out))
}

// counts reads either count or min_count/max_count; a field that is given
// is used as given, so an explicit 0 is refused rather than defaulted.
func counts(req wire.RunRequest) (minCount, maxCount int, err error) {
	if req.Count != nil {
		if req.MinCount != nil || req.MaxCount != nil {
			return 0, 0, badRequest("give either count or min_count/max_count, not both")
		}
		return *req.Count, *req.Count, nil
	}
	minCount, maxCount = 1, 1
	if req.MinCount != nil {
		minCount, maxCount = *req.MinCount, *req.MinCount
	}
	if req.MaxCount != nil {
		maxCount = *req.MaxCount
		if req.MinCount == nil {
			minCount = min(1, maxCount)
		}
	}
	return minCount, maxCount, nil
}

func (s *Server) listInstances(c echo.Context) error {
	var idList []string
	if q := c.QueryParam("ids"); q != "" {
		idList = strings.Split(q, ",")
	}
	out, err := s.instances.For(accountOf(c)).List(c.Request().Context(), idList)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, viewInstances(out))
}

func (s *Server) getInstance(c echo.Context) error {
	in, err := s.instances.For(accountOf(c)).Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	v := viewInstance(in)
	v.UserData = base64.StdEncoding.EncodeToString(in.UserData)
	return c.JSON(http.StatusOK, v)
}

func (s *Server) terminateInstance(c echo.Context) error {
	return s.act(c, "terminate")
}

func (s *Server) instanceAction(c echo.Context) error {
	return s.act(c, path.Base(c.Path()))
}

func (s *Server) act(c echo.Context, action string) error {
	ctx := c.Request().Context()
	mine := s.instances.For(accountOf(c))
	idList := []string{c.Param("id")}
	var out []instances.StateChange
	var err error
	switch action {
	case "start":
		out, err = mine.Start(ctx, idList)
	case "stop":
		var req wire.StopRequest
		if c.Request().ContentLength != 0 {
			if err := decode(c, &req); err != nil {
				return err
			}
		}
		out, err = mine.Stop(ctx, idList, req.Force)
	case "reboot":
		out, err = mine.Reboot(ctx, idList)
	case "terminate":
		out, err = mine.Terminate(ctx, idList)
	}
	if err != nil {
		return err
	}
	ch := out[0]
	return c.JSON(http.StatusOK, wire.StateChange{ID: ch.ID, Previous: stateOf(ch.Previous), Current: stateOf(ch.Current)})
}

func (s *Server) createImage(c echo.Context) error {
	var req wire.CreateImageRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	im, err := s.instances.For(accountOf(c)).CreateImage(c.Request().Context(), c.Param("id"),
		instances.ImageRequest{Name: req.Name, Description: req.Description})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewImage(im))
}

func (s *Server) consoleOutput(c echo.Context) error {
	out, err := s.instances.For(accountOf(c)).ConsoleLog(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", out)
}

func (s *Server) listTypes(c echo.Context) error {
	var out wire.InstanceTypes
	for _, t := range instances.Types() {
		out.InstanceTypes = append(out.InstanceTypes, wire.InstanceType{Name: t.Name, VCPUs: t.VCPUs, MemoryMiB: t.MemoryMiB})
	}
	return c.JSON(http.StatusOK, out)
}
