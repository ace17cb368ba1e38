package api

import (
	"net/http"

	"github.com/labstack/echo/v4"
)

// Route is one endpoint. All endpoints are listed in routes, so the whole
// API surface reads in one place.
type Route struct {
	Method  string
	Path    string
	Handler echo.HandlerFunc
	// Upload routes take a raw file body instead of a small JSON document.
	Upload bool
	// Public routes answer without a signature: the EC2 API checks its
	// own, health checks and the console's files need none, and the
	// console's pages check their session themselves, sending a browser
	// without one to sign in.
	Public bool
}

func (s *Server) routes() []Route {
	return []Route{
		{Method: http.MethodGet, Path: "/healthz", Handler: s.health, Public: true},
		{Method: http.MethodGet, Path: "/", Handler: s.root, Public: true},
		{Method: http.MethodPost, Path: "/", Handler: s.ec2, Public: true},

		{Method: http.MethodGet, Path: "/signin", Handler: s.signInPage, Public: true},
		{Method: http.MethodPost, Path: "/signin", Handler: s.signIn, Public: true},
		{Method: http.MethodPost, Path: "/signout", Handler: s.signOut, Public: true},
		{Method: http.MethodGet, Path: "/instances", Handler: s.page("instances"), Public: true},
		{Method: http.MethodGet, Path: "/instances/:id", Handler: s.page("instance"), Public: true},
		{Method: http.MethodGet, Path: "/launch", Handler: s.page("launch"), Public: true},
		{Method: http.MethodGet, Path: "/images", Handler: s.page("images"), Public: true},
		{Method: http.MethodGet, Path: "/load-balancers", Handler: s.page("load-balancers"), Public: true},
		{Method: http.MethodGet, Path: "/hosts", Handler: s.page("hosts"), Public: true},
		{Method: http.MethodGet, Path: "/static/*", Handler: static, Public: true},
		{Method: http.MethodGet, Path: "/api/v1/events", Handler: s.streamEvents},

		{Method: http.MethodGet, Path: "/api/v1/instance-types", Handler: s.listTypes},

		{Method: http.MethodGet, Path: "/api/v1/images", Handler: s.listImages},
		{Method: http.MethodPost, Path: "/api/v1/images", Handler: s.registerImage},
		{Method: http.MethodGet, Path: "/api/v1/images/:id", Handler: s.getImage},
		{Method: http.MethodDelete, Path: "/api/v1/images/:id", Handler: s.deregisterImage},
		{Method: http.MethodPost, Path: "/api/v1/blobs", Handler: s.uploadBlob, Upload: true},

		{Method: http.MethodGet, Path: "/api/v1/instances", Handler: s.listInstances},
		{Method: http.MethodPost, Path: "/api/v1/instances", Handler: s.runInstances},
		{Method: http.MethodGet, Path: "/api/v1/instances/:id", Handler: s.getInstance},
		{Method: http.MethodDelete, Path: "/api/v1/instances/:id", Handler: s.terminateInstance},
		{Method: http.MethodPost, Path: "/api/v1/instances/:id/start", Handler: s.instanceAction},
		{Method: http.MethodPost, Path: "/api/v1/instances/:id/stop", Handler: s.instanceAction},
		{Method: http.MethodPost, Path: "/api/v1/instances/:id/reboot", Handler: s.instanceAction},
		{Method: http.MethodPost, Path: "/api/v1/instances/:id/terminate", Handler: s.instanceAction},
		{Method: http.MethodPost, Path: "/api/v1/instances/:id/image", Handler: s.createImage},
		{Method: http.MethodGet, Path: "/api/v1/instances/:id/tags", Handler: s.instanceTags},
		{Method: http.MethodGet, Path: "/api/v1/instances/:id/console", Handler: s.consoleOutput},
		{Method: http.MethodGet, Path: "/api/v1/instances/:id/serial-console", Handler: s.serialConsole},
		{Method: http.MethodGet, Path: "/api/v1/instances/:id/metrics", Handler: instanceMetrics(func(c echo.Context) instanceGetter { return s.instances.For(accountOf(c)) }, s.metrics)},

		{Method: http.MethodGet, Path: "/api/v1/launch-templates", Handler: s.listLaunchTemplates},
		{Method: http.MethodPost, Path: "/api/v1/launch-templates", Handler: s.createLaunchTemplate},
		{Method: http.MethodDelete, Path: "/api/v1/launch-templates/:ref", Handler: s.deleteLaunchTemplate},
		{Method: http.MethodGet, Path: "/api/v1/launch-templates/:ref/versions", Handler: s.listLaunchTemplateVersions},
		{Method: http.MethodPost, Path: "/api/v1/launch-templates/:ref/versions", Handler: s.createLaunchTemplateVersion},
		{Method: http.MethodPost, Path: "/api/v1/launch-templates/:ref/default", Handler: s.setLaunchTemplateDefault},

		{Method: http.MethodGet, Path: "/api/v1/placement-groups", Handler: s.listPlacementGroups},
		{Method: http.MethodPost, Path: "/api/v1/placement-groups", Handler: s.createPlacementGroup},
		{Method: http.MethodDelete, Path: "/api/v1/placement-groups/:name", Handler: s.deletePlacementGroup},

		{Method: http.MethodGet, Path: "/api/v1/hosts", Handler: s.listHosts},
		{Method: http.MethodPost, Path: "/api/v1/hosts", Handler: s.registerHost},
		{Method: http.MethodGet, Path: "/api/v1/hosts/:ref", Handler: s.getHost},
		{Method: http.MethodDelete, Path: "/api/v1/hosts/:ref", Handler: s.removeHost},
		{Method: http.MethodPost, Path: "/api/v1/hosts/:ref/drain", Handler: s.hostAction},
		{Method: http.MethodPost, Path: "/api/v1/hosts/:ref/enable", Handler: s.hostAction},

		{Method: http.MethodGet, Path: "/api/v1/load-balancers", Handler: s.listLoadBalancers},
		{Method: http.MethodPost, Path: "/api/v1/load-balancers", Handler: s.createLoadBalancer},
		{Method: http.MethodGet, Path: "/api/v1/load-balancers/:ref", Handler: s.getLoadBalancer},
		{Method: http.MethodPatch, Path: "/api/v1/load-balancers/:ref", Handler: s.updateLoadBalancer},
		{Method: http.MethodDelete, Path: "/api/v1/load-balancers/:ref", Handler: s.deleteLoadBalancer},
		{Method: http.MethodPost, Path: "/api/v1/load-balancers/:ref/targets", Handler: s.registerTargets},
		{Method: http.MethodPost, Path: "/api/v1/load-balancers/:ref/targets/deregister", Handler: s.deregisterTargets},
	}
}

func (s *Server) health(c echo.Context) error {
	return c.JSON(http.StatusOK, map[string]string{"status": "ok"})
}
