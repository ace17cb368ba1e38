package api

import (
	"encoding/base64"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"kumo/instances"
)

type stateView struct {
	Name string `json:"name"`
	Code int    `json:"code"`
}

type instanceView struct {
	ID           string     `json:"id"`
	Name         string     `json:"name,omitempty"`
	ImageID      string     `json:"image_id"`
	Type         string     `json:"type"`
	VCPUs        int        `json:"vcpus"`
	MemoryMiB    int        `json:"memory_mib"`
	State        stateView  `json:"state"`
	StateReason  string     `json:"state_reason,omitempty"`
	PrivateIP    string     `json:"private_ip,omitempty"`
	MAC          string     `json:"mac"`
	Host         string     `json:"host"`
	LaunchedAt   time.Time  `json:"launched_at"`
	TerminatedAt *time.Time `json:"terminated_at,omitempty"`
	UserData     string     `json:"user_data,omitempty"` // base64; only on a single instance
}

func viewInstance(in instances.Instance) instanceView {
	v := instanceView{
		ID: in.ID, Name: in.Name, ImageID: in.ImageID, Type: in.Type.Name, VCPUs: in.Type.VCPUs,
		MemoryMiB: in.Type.MemoryMiB, State: stateView{string(in.State), in.State.Code()},
		StateReason: in.StateReason, PrivateIP: in.PrivateIP, MAC: in.MAC, Host: in.Host, LaunchedAt: in.LaunchedAt,
	}
	if !in.TerminatedAt.IsZero() {
		t := in.TerminatedAt
		v.TerminatedAt = &t
	}
	return v
}

type runRequest struct {
	Image    string `json:"image"`
	Type     string `json:"type"`
	Count    *int   `json:"count"`
	MinCount *int   `json:"min_count"`
	MaxCount *int   `json:"max_count"`
	Name     string `json:"name"`
	UserData string `json:"user_data"` // base64
}

func (s *Server) runInstances(c echo.Context) error {
	var req runRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	minCount, maxCount, err := counts(req)
	if err != nil {
		return err
	}
	userData, err := base64.StdEncoding.DecodeString(req.UserData)
	if err != nil {
		return badRequest("user_data must be base64-encoded")
	}
	out, err := s.instances.Run(c.Request().Context(), instances.RunRequest{
		Image: req.Image, Type: req.Type, MinCount: minCount, MaxCount: maxCount, Name: req.Name, UserData: userData,
	})
	if err != nil {
		return err
	}
	views := make([]instanceView, len(out))
	for i, in := range out {
		views[i] = viewInstance(in)
	}
	return c.JSON(http.StatusCreated, map[string]any{"instances": views})
}

// counts reads either count or min_count/max_count; a field that is given
// is used as given, so an explicit 0 is refused rather than defaulted.
func counts(req runRequest) (minCount, maxCount int, err error) {
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
	out, err := s.instances.List(c.Request().Context(), idList)
	if err != nil {
		return err
	}
	views := make([]instanceView, len(out))
	for i, in := range out {
		views[i] = viewInstance(in)
	}
	return c.JSON(http.StatusOK, map[string]any{"instances": views})
}

func (s *Server) getInstance(c echo.Context) error {
	in, err := s.instances.Get(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	v := viewInstance(in)
	v.UserData = base64.StdEncoding.EncodeToString(in.UserData)
	return c.JSON(http.StatusOK, v)
}

type stateChangeView struct {
	ID       string    `json:"id"`
	Previous stateView `json:"previous_state"`
	Current  stateView `json:"current_state"`
}

func (s *Server) terminateInstance(c echo.Context) error {
	return s.act(c, "terminate")
}

func (s *Server) instanceAction(c echo.Context) error {
	return s.act(c, path.Base(c.Path()))
}

type stopRequest struct {
	Force bool `json:"force"`
}

func (s *Server) act(c echo.Context, action string) error {
	ctx := c.Request().Context()
	idList := []string{c.Param("id")}
	var out []instances.StateChange
	var err error
	switch action {
	case "start":
		out, err = s.instances.Start(ctx, idList)
	case "stop":
		var req stopRequest
		if c.Request().ContentLength != 0 {
			if err := decode(c, &req); err != nil {
				return err
			}
		}
		out, err = s.instances.Stop(ctx, idList, req.Force)
	case "reboot":
		out, err = s.instances.Reboot(ctx, idList)
	case "terminate":
		out, err = s.instances.Terminate(ctx, idList)
	}
	if err != nil {
		return err
	}
	ch := out[0]
	return c.JSON(http.StatusOK, stateChangeView{
		ID:       ch.ID,
		Previous: stateView{string(ch.Previous), ch.Previous.Code()},
		Current:  stateView{string(ch.Current), ch.Current.Code()},
	})
}

type createImageRequest struct {
	Name        string `json:"name"`
	Description string `json:"description"`
}

func (s *Server) createImage(c echo.Context) error {
	var req createImageRequest
	if err := decode(c, &req); err != nil {
		return err
	}
	im, err := s.instances.CreateImage(c.Request().Context(), c.Param("id"), req.Name, req.Description)
	if err != nil {
		return err
	}
	return c.JSON(http.StatusCreated, viewImage(im))
}

func (s *Server) consoleOutput(c echo.Context) error {
	out, err := s.instances.ConsoleLog(c.Request().Context(), c.Param("id"))
	if err != nil {
		return err
	}
	return c.Blob(http.StatusOK, "text/plain; charset=utf-8", out)
}

type typeView struct {
	Name      string `json:"name"`
	VCPUs     int    `json:"vcpus"`
	MemoryMiB int    `json:"memory_mib"`
}

func (s *Server) listTypes(c echo.Context) error {
	var out []typeView
	for _, t := range instances.Types() {
		out = append(out, typeView{t.Name, t.VCPUs, t.MemoryMiB})
	}
	return c.JSON(http.StatusOK, map[string]any{"instance_types": out})
}
