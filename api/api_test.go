package api

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/api/sigv4"
	"kumo/api/wire"
	"kumo/hosts"
	"kumo/hypervisor"
	"kumo/hypervisor/fake"
	"kumo/images"
	"kumo/instances"
	"kumo/internal/clock"
	"kumo/internal/testkit"
	"kumo/keypairs"
	"kumo/launchtemplates"
	"kumo/loadbalancer/manager"
	"kumo/store"
	"kumo/tags"
)

// newTestAPI serves the API over a fake host and registers a kernel-boot
// image through the API itself.
func newTestAPI(t *testing.T) (srv *httptest.Server, imageID, kernel string) {
	t.Helper()
	return newTestAPIWith(t, Options{MaxUpload: 1 << 20})
}

func newTestAPIWith(t *testing.T, opts Options) (srv *httptest.Server, imageID, kernel string) {
	t.Helper()
	st, dir := testkit.Store(t)
	log := testkit.QuietLog()
	im, err := images.New(st, filepath.Join(dir, "images"), clock.Real{}, log)
	if err != nil {
		t.Fatal(err)
	}
	svc := instances.New(instances.Config{DataDir: filepath.Join(dir, "instances")}, st, fake.New(fake.Options{}), im, clock.Real{}, log)
	if err := svc.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(svc.Close)
	// Instances of the fake host have addresses nothing can reach; a
	// namespace that does not exist makes every connection to them fail
	// at once.
	lbs := manager.New(st, svc, manager.Config{Namespace: "kumo-api-test-none"}, clock.Real{}, log)
	if err := lbs.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(lbs.Close)
	if opts.RESTAuth == nil {
		opts.RESTAuth = headerAuth{}
	}
	opts.KeyPairs = keypairs.New(st, clock.Real{})
	opts.LaunchTemplates = launchtemplates.New(st, clock.Real{})
	opts.Tags = tags.New(st, map[string]tags.Resources{tags.Instance: svc})
	srv = httptest.NewServer(New(svc, im, lbs, log, opts))
	t.Cleanup(srv.Close)

	// The cloud's own image, as kumod registers its default one: every
	// account may launch it.
	img, digest := testkit.Image(t, im, images.RegisterRequest{Name: "tiny"})
	return srv, img.ID, digest
}

// testAccountHeader names the account a REST request of these tests speaks
// for; without it, it speaks for restAccount, the administrator.
const (
	testAccountHeader = "X-Test-Account"
	restAccount       = "123456789012"
)

// headerAuth stands in for REST signature checks, which have their own
// tests.
type headerAuth struct{}

func (headerAuth) AuthenticateREST(r *http.Request, _ []byte, _ bool) (Caller, error) {
	if a := r.Header.Get(testAccountHeader); a != "" {
		return Caller{Account: a}, nil
	}
	return Caller{Account: restAccount, Admin: true}, nil
}

// call sends body (raw bytes as they are, anything else as JSON) and
// decodes the answer into out.
func call(t *testing.T, srv *httptest.Server, method, path string, body any, out any) int {
	t.Helper()
	return callAs(t, srv, "", method, path, body, out)
}

// callAs is call on behalf of account ("" for the administrator).
func callAs(t *testing.T, srv *httptest.Server, account, method, path string, body any, out any) int {
	t.Helper()
	var r io.Reader
	ct := "application/json"
	switch b := body.(type) {
	case nil:
	case []byte:
		r, ct = bytes.NewReader(b), "application/octet-stream"
	case string:
		r = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		r = bytes.NewReader(data)
	}
	req, _ := http.NewRequest(method, srv.URL+path, r)
	if r != nil {
		req.Header.Set("Content-Type", ct)
	}
	if account != "" {
		req.Header.Set(testAccountHeader, account)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	if out != nil {
		if err := json.Unmarshal(data, out); err != nil {
			t.Fatalf("%s %s: %d %s: %v", method, path, resp.StatusCode, data, err)
		}
	}
	return resp.StatusCode
}

type errDoc struct {
	Error struct {
		Code, Message string
		RequestID     string `json:"request_id"`
	}
}

func TestBadInputGetsPreciseErrors(t *testing.T) {
	srv, imageID, kernel := newTestAPI(t)
	digest := "sha256:" + strings.Repeat("0", 64)
	webPort, otherPort, takenPort := freePort(t), freePort(t), freePort(t)
	taken, err := net.Listen("tcp", fmt.Sprintf("127.0.0.1:%d", takenPort))
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if code := call(t, srv, "POST", "/api/v1/load-balancers", lbRequest("web", webPort), nil); code != http.StatusCreated {
		t.Fatalf("create web: %d", code)
	}
	lbWith := func(field string, value any) map[string]any {
		req := lbRequest("api", otherPort)
		req[field] = value
		return req
	}
	health := func(field string, value any) map[string]any {
		return lbWith("health_check", map[string]any{field: value})
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"unknown image", "POST", "/api/v1/instances", map[string]any{"image": "ami-00000000000000000", "type": "t2.micro"}, 404, "InvalidAMIID.NotFound"},
		{"unknown image name", "POST", "/api/v1/instances", map[string]any{"image": "nope", "type": "t2.micro"}, 404, "InvalidAMIID.NotFound"},
		{"unknown type", "POST", "/api/v1/instances", map[string]any{"image": imageID, "type": "m9.giant"}, 400, "InvalidParameterValue"},
		{"count 0", "POST", "/api/v1/instances", map[string]any{"image": imageID, "type": "t2.micro", "count": 0}, 400, "InvalidParameterValue"},
		{"count 10000", "POST", "/api/v1/instances", map[string]any{"image": imageID, "type": "t2.micro", "count": 10000}, 400, "InstanceLimitExceeded"},
		{"user data too big", "POST", "/api/v1/instances", map[string]any{"image": imageID, "type": "t2.micro",
			"user_data": base64.StdEncoding.EncodeToString(make([]byte, 16*1024+1))}, 400, "InvalidParameterValue"},
		{"user data not base64", "POST", "/api/v1/instances", map[string]any{"image": imageID, "type": "t2.micro", "user_data": "%%%"}, 400, "InvalidParameterValue"},
		{"unknown field", "POST", "/api/v1/instances", map[string]any{"image": imageID, "type": "t2.micro", "colour": "red"}, 400, "InvalidParameterValue"},
		{"malformed json", "POST", "/api/v1/instances", `{"image":`, 400, "InvalidParameterValue"},
		{"wrong field type", "POST", "/api/v1/instances", `{"image": 5}`, 400, "InvalidParameterValue"},
		{"malformed instance id", "GET", "/api/v1/instances/i-xyz", nil, 400, "InvalidInstanceID.Malformed"},
		{"unknown instance", "POST", "/api/v1/instances/i-00000000000000000/stop", nil, 404, "InvalidInstanceID.NotFound"},
		{"malformed image id", "DELETE", "/api/v1/images/ami-..%2F..%2Fetc", nil, 400, "InvalidAMIID.Malformed"},
		{"image path with ..", "POST", "/api/v1/images", map[string]any{"name": "evil", "kernel": "../../../etc/passwd"}, 400, "InvalidParameterValue"},
		{"image absolute path", "POST", "/api/v1/images", map[string]any{"name": "evil", "disk": "/etc/shadow", "disk_format": "raw"}, 400, "InvalidParameterValue"},
		{"image blob never uploaded", "POST", "/api/v1/images", map[string]any{"name": "ghost", "kernel": digest}, 400, "InvalidParameterValue"},
		{"image without name", "POST", "/api/v1/images", map[string]any{"kernel": digest}, 400, "MissingParameter"},
		{"duplicate image name", "POST", "/api/v1/images", map[string]any{"name": "tiny", "kernel": kernel}, 409, "InvalidAMIName.Duplicate"},
		{"disk is not qcow2", "POST", "/api/v1/images", map[string]any{"name": "x", "kernel": kernel, "disk": kernel, "disk_format": "qcow2"}, 400, "InvalidParameterValue"},
		{"upload over the limit", "POST", "/api/v1/blobs", make([]byte, 1<<20+1), 413, "LimitExceeded"},
		{"unknown route", "GET", "/api/v1/nothing", nil, 404, "NotFound"},
		{"wrong method", "PUT", "/api/v1/instances", nil, 405, "MethodNotAllowed"},

		{"lb without name", "POST", "/api/v1/load-balancers", lbWith("name", ""), 400, "MissingParameter"},
		{"lb name with spaces", "POST", "/api/v1/load-balancers", lbWith("name", "my web"), 400, "InvalidParameterValue"},
		{"lb without listeners", "POST", "/api/v1/load-balancers", map[string]any{"name": "api"}, 400, "MissingParameter"},
		{"lb negative port", "POST", "/api/v1/load-balancers", lbWith("listeners", []map[string]int{{"port": -1, "target_port": 80}}), 400, "InvalidParameterValue"},
		{"lb port 0", "POST", "/api/v1/load-balancers", lbWith("listeners", []map[string]int{{"port": 0, "target_port": 80}}), 400, "InvalidParameterValue"},
		{"lb port 70000", "POST", "/api/v1/load-balancers", lbWith("listeners", []map[string]int{{"port": 70000, "target_port": 80}}), 400, "InvalidParameterValue"},
		{"lb target port missing", "POST", "/api/v1/load-balancers", lbWith("listeners", []map[string]int{{"port": otherPort}}), 400, "InvalidParameterValue"},
		{"lb port not a number", "POST", "/api/v1/load-balancers", lbWith("listeners", []map[string]string{{"port": "http"}}), 400, "InvalidParameterValue"},
		{"lb same port twice", "POST", "/api/v1/load-balancers", lbWith("listeners", []map[string]int{{"port": otherPort, "target_port": 80}, {"port": otherPort, "target_port": 81}}), 400, "InvalidParameterValue"},
		{"lb unknown algorithm", "POST", "/api/v1/load-balancers", lbWith("algorithm", "random"), 400, "InvalidParameterValue"},
		{"lb empty algorithm", "POST", "/api/v1/load-balancers", lbWith("algorithm", ""), 400, "InvalidParameterValue"},
		{"lb bind not an address", "POST", "/api/v1/load-balancers", lbWith("bind_addr", "localhost"), 400, "InvalidParameterValue"},
		{"lb bind not of this host", "POST", "/api/v1/load-balancers", lbWith("bind_addr", "192.0.2.1"), 400, "InvalidParameterValue"},
		{"lb deregistration delay negative", "POST", "/api/v1/load-balancers", lbWith("deregistration_delay_seconds", -1), 400, "InvalidParameterValue"},
		{"lb deregistration delay too long", "POST", "/api/v1/load-balancers", lbWith("deregistration_delay_seconds", 3601), 400, "InvalidParameterValue"},
		{"lb idle timeout huge", "POST", "/api/v1/load-balancers", lbWith("idle_timeout_seconds", 1<<40), 400, "InvalidParameterValue"},
		{"lb connect timeout too short", "POST", "/api/v1/load-balancers", lbWith("connect_timeout_ms", 5), 400, "InvalidParameterValue"},
		{"lb unknown field", "POST", "/api/v1/load-balancers", lbWith("colour", "red"), 400, "InvalidParameterValue"},
		{"lb health protocol", "POST", "/api/v1/load-balancers", health("protocol", "UDP"), 400, "InvalidParameterValue"},
		{"lb health path", "POST", "/api/v1/load-balancers", lbWith("health_check", map[string]any{"protocol": "HTTP", "path": "health"}), 400, "InvalidParameterValue"},
		{"lb health path with space", "POST", "/api/v1/load-balancers", lbWith("health_check", map[string]any{"protocol": "http", "path": "/a b"}), 400, "InvalidParameterValue"},
		{"lb health matcher", "POST", "/api/v1/load-balancers", lbWith("health_check", map[string]any{"protocol": "HTTP", "matcher": "600"}), 400, "InvalidParameterValue"},
		{"lb health port", "POST", "/api/v1/load-balancers", health("port", 65536), 400, "InvalidParameterValue"},
		{"lb interval too long", "POST", "/api/v1/load-balancers", health("interval_seconds", 301), 400, "InvalidParameterValue"},
		{"lb interval 0", "POST", "/api/v1/load-balancers", health("interval_seconds", 0), 400, "InvalidParameterValue"},
		{"lb timeout over interval", "POST", "/api/v1/load-balancers", lbWith("health_check", map[string]any{"interval_seconds": 5, "timeout_seconds": 6}), 400, "InvalidParameterValue"},
		{"lb threshold 1", "POST", "/api/v1/load-balancers", health("healthy_threshold", 1), 400, "InvalidParameterValue"},
		{"lb threshold 11", "POST", "/api/v1/load-balancers", health("unhealthy_threshold", 11), 400, "InvalidParameterValue"},
		{"lb duplicate name", "POST", "/api/v1/load-balancers", lbRequest("web", otherPort), 409, "DuplicateLoadBalancerName"},
		{"lb port of another lb", "POST", "/api/v1/load-balancers", lbRequest("api", webPort), 409, "DuplicateListener"},
		{"lb port of another program", "POST", "/api/v1/load-balancers", lbRequest("api", takenPort), 409, "InvalidConfigurationRequest"},
		{"lb unknown", "GET", "/api/v1/load-balancers/nope", nil, 404, "LoadBalancerNotFound"},
		{"lb unknown id", "DELETE", "/api/v1/load-balancers/lb-00000000000000000", nil, 404, "LoadBalancerNotFound"},
		{"lb update unknown", "PATCH", "/api/v1/load-balancers/nope", map[string]any{"algorithm": "source_hash"}, 404, "LoadBalancerNotFound"},
		{"lb update renames", "PATCH", "/api/v1/load-balancers/web", map[string]any{"name": "other"}, 400, "InvalidParameterValue"},
		{"lb update without listeners", "PATCH", "/api/v1/load-balancers/web", map[string]any{"listeners": []any{}}, 400, "MissingParameter"},
		{"lb update onto a taken port", "PATCH", "/api/v1/load-balancers/web", map[string]any{"listeners": []map[string]int{{"port": takenPort, "target_port": 80}}}, 409, "InvalidConfigurationRequest"},
		{"lb update bad interval", "PATCH", "/api/v1/load-balancers/web", map[string]any{"health_check": map[string]int{"interval_seconds": 0}}, 400, "InvalidParameterValue"},
		{"register no target", "POST", "/api/v1/load-balancers/web/targets", map[string]any{"targets": []string{}}, 400, "MissingParameter"},
		{"register unknown instance", "POST", "/api/v1/load-balancers/web/targets", map[string]any{"targets": []string{"i-00000000000000000"}}, 400, "InvalidTarget"},
		{"register malformed instance", "POST", "/api/v1/load-balancers/web/targets", map[string]any{"targets": []string{"i-xyz"}}, 400, "InvalidTarget"},
		{"register host name", "POST", "/api/v1/load-balancers/web/targets", map[string]any{"targets": []string{"localhost:80"}}, 400, "InvalidTarget"},
		{"register port 0", "POST", "/api/v1/load-balancers/web/targets", map[string]any{"targets": []string{"127.0.0.1:0"}}, 400, "InvalidTarget"},
		{"register to unknown lb", "POST", "/api/v1/load-balancers/nope/targets", map[string]any{"targets": []string{"127.0.0.1:80"}}, 404, "LoadBalancerNotFound"},
		{"deregister not registered", "POST", "/api/v1/load-balancers/web/targets/deregister", map[string]any{"targets": []string{"127.0.0.1:80"}}, 400, "InvalidTarget"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var doc errDoc
			status := call(t, srv, tc.method, tc.path, tc.body, &doc)
			if status != tc.status || doc.Error.Code != tc.code || doc.Error.Message == "" || doc.Error.RequestID == "" {
				t.Fatalf("got %d %+v, want %d %s", status, doc.Error, tc.status, tc.code)
			}
		})
	}
	var list struct{ Instances []any }
	call(t, srv, "GET", "/api/v1/instances", nil, &list)
	if len(list.Instances) != 0 {
		t.Fatalf("bad requests created %d instances", len(list.Instances))
	}
	var lbs struct {
		LoadBalancers []struct {
			Name  string
			Stats struct{ Targets []any }
		} `json:"load_balancers"`
	}
	call(t, srv, "GET", "/api/v1/load-balancers", nil, &lbs)
	if len(lbs.LoadBalancers) != 1 || lbs.LoadBalancers[0].Name != "web" || len(lbs.LoadBalancers[0].Stats.Targets) != 0 {
		t.Fatalf("bad requests left load balancers: %+v", lbs)
	}
}

func lbRequest(name string, port int) map[string]any {
	return map[string]any{"name": name, "listeners": []map[string]int{{"port": port, "target_port": 80}}}
}

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

func TestInstanceLifecycleOverHTTP(t *testing.T) {
	srv, imageID, _ := newTestAPI(t)
	var run struct {
		Instances []struct {
			ID        string
			State     struct{ Name string }
			PrivateIP string `json:"private_ip"`
		}
	}
	if code := call(t, srv, "POST", "/api/v1/instances", map[string]any{"image": "tiny", "type": "t2.nano", "count": 2, "name": "web"}, &run); code != 201 {
		t.Fatalf("run: %d", code)
	}
	if len(run.Instances) != 2 || run.Instances[0].State.Name != "pending" || run.Instances[0].PrivateIP == "" {
		t.Fatalf("run = %+v", run)
	}
	id := run.Instances[0].ID
	waitFor := func(want string) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			var in struct {
				ImageID string `json:"image_id"`
				State   struct {
					Name string
					Code int
				}
			}
			call(t, srv, "GET", "/api/v1/instances/"+id, nil, &in)
			if in.State.Name == want {
				if in.ImageID != imageID {
					t.Fatalf("image_id = %s", in.ImageID)
				}
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("state %s, want %s", in.State.Name, want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	waitFor("running")
	var doc errDoc
	if code := call(t, srv, "POST", "/api/v1/instances/"+id+"/start", nil, nil); code != 200 {
		t.Fatalf("start of running: %d", code)
	}
	if code := call(t, srv, "POST", "/api/v1/instances/"+id+"/stop", map[string]bool{"force": true}, nil); code != 200 {
		t.Fatalf("stop: %d", code)
	}
	waitFor("stopped")
	if code := call(t, srv, "POST", "/api/v1/instances/"+id+"/reboot", nil, &doc); code != 409 || doc.Error.Code != "IncorrectInstanceState" {
		t.Fatalf("reboot of stopped: %d %+v", code, doc)
	}
	var ch struct {
		Previous struct{ Name string } `json:"previous_state"`
		Current  struct {
			Name string
			Code int
		} `json:"current_state"`
	}
	if code := call(t, srv, "DELETE", "/api/v1/instances/"+id, nil, &ch); code != 200 || ch.Current.Name != "shutting-down" || ch.Current.Code != 32 {
		t.Fatalf("terminate: %d %+v", code, ch)
	}
	waitFor("terminated")
	if code := call(t, srv, "DELETE", "/api/v1/images/"+imageID, nil, &doc); code != 409 || doc.Error.Code != "InvalidAMIID.InUse" {
		t.Fatalf("deregister in use: %d %+v", code, doc)
	}
}

// TestRESTIsPerAccount drives the REST API as two accounts: each sees and
// changes only its own instances and images, as on the EC2 API.
func TestRESTIsPerAccount(t *testing.T) {
	srv, imageID, kernel := newTestAPI(t)
	var run struct{ Instances []struct{ ID string } }
	if code := callAs(t, srv, "alice", "POST", "/api/v1/instances", map[string]any{"image": imageID, "type": "t2.nano"}, &run); code != http.StatusCreated {
		t.Fatalf("alice's run: %d", code)
	}
	id := run.Instances[0].ID
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/instances/" + id},
		{"POST", "/api/v1/instances/" + id + "/stop"},
		{"POST", "/api/v1/instances/" + id + "/terminate"},
		{"DELETE", "/api/v1/instances/" + id},
		{"GET", "/api/v1/instances/" + id + "/console"},
		{"POST", "/api/v1/instances/" + id + "/image"},
	} {
		var doc errDoc
		var body any
		if tc.path == "/api/v1/instances/"+id+"/image" {
			body = map[string]any{"name": "stolen"}
		}
		if code := callAs(t, srv, "bob", tc.method, tc.path, body, &doc); code != http.StatusNotFound || doc.Error.Code != "InvalidInstanceID.NotFound" {
			t.Errorf("bob's %s %s: %d %s", tc.method, tc.path, code, doc.Error.Code)
		}
	}
	var list struct{ Instances []any }
	if callAs(t, srv, "bob", "GET", "/api/v1/instances", nil, &list); len(list.Instances) != 0 {
		t.Errorf("bob lists %d instances", len(list.Instances))
	}
	if callAs(t, srv, "alice", "GET", "/api/v1/instances", nil, &list); len(list.Instances) != 1 {
		t.Errorf("alice lists %d instances", len(list.Instances))
	}

	var img struct{ ID string }
	if code := callAs(t, srv, "bob", "POST", "/api/v1/images", map[string]any{"name": "bobs", "kernel": kernel}, &img); code != http.StatusCreated {
		t.Fatalf("bob's register: %d", code)
	}
	var doc errDoc
	if code := callAs(t, srv, "alice", "GET", "/api/v1/images/"+img.ID, nil, &doc); code != http.StatusNotFound {
		t.Errorf("alice sees bob's private image: %d", code)
	}
	if code := callAs(t, srv, "bob", "DELETE", "/api/v1/images/"+imageID, nil, &doc); code != http.StatusForbidden || doc.Error.Code != "UnauthorizedOperation" {
		t.Errorf("bob deregistering the cloud's image: %d %s", code, doc.Error.Code)
	}
	var all struct{ Images []struct{ ID string } }
	if call(t, srv, "GET", "/api/v1/images", nil, &all); len(all.Images) != 2 {
		t.Errorf("the administrator sees %d images, want the cloud's and bob's", len(all.Images))
	}

	port := freePort(t)
	lb := map[string]any{"name": "web", "bind_addr": "127.0.0.1", "listeners": []any{map[string]any{"port": port, "target_port": 80}}}
	if code := callAs(t, srv, "alice", "POST", "/api/v1/load-balancers", lb, nil); code != http.StatusCreated {
		t.Fatalf("alice's load balancer: %d", code)
	}
	if code := callAs(t, srv, "bob", "GET", "/api/v1/load-balancers/web", nil, &doc); code != http.StatusNotFound || doc.Error.Code != "LoadBalancerNotFound" {
		t.Errorf("bob reading alice's load balancer: %d %s", code, doc.Error.Code)
	}
	if code := callAs(t, srv, "alice", "POST", "/api/v1/load-balancers/web/targets", map[string]any{"targets": []string{"127.0.0.1:8080"}}, &doc); code != http.StatusBadRequest || doc.Error.Code != "InvalidTarget" {
		t.Errorf("an account sending to a host address: %d %s", code, doc.Error.Code)
	}
	if code := callAs(t, srv, "alice", "POST", "/api/v1/load-balancers/web/targets", map[string]any{"targets": []string{id}}, nil); code != http.StatusOK {
		t.Errorf("alice registering her instance: %d", code)
	}
}

func TestRESTWithoutAuthRefuses(t *testing.T) {
	srv, _, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, RESTAuth: refuseAll{}})
	var doc errDoc
	if code := call(t, srv, "GET", "/api/v1/instances", nil, &doc); code != http.StatusForbidden || doc.Error.Code != "SignatureDoesNotMatch" {
		t.Fatalf("a refused signature: %d %s", code, doc.Error.Code)
	}
	if code := call(t, srv, "GET", "/healthz", nil, nil); code != http.StatusOK {
		t.Fatalf("health without a signature: %d", code)
	}
}

type refuseAll struct{}

func (refuseAll) AuthenticateREST(*http.Request, []byte, bool) (Caller, error) {
	return Caller{}, &sigv4.Error{Code: sigv4.CodeSignatureDoesNotMatch, Message: "no"}
}

// TestHostsAreTheAdministrators drives /api/v1/hosts: the administrator
// registers, lists, drains, enables and removes hosts; an account may not.
func TestHostsAreTheAdministrators(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	fleet := hosts.New(hosts.Config{}, st, func(string) (hypervisor.Driver, error) { return fake.New(fake.Options{}), nil }, clock.Real{}, log)
	if err := fleet.Open(ctx); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(fleet.Close)
	srv, _, _ := newTestAPIWith(t, Options{MaxUpload: 1 << 20, Hosts: fleet})

	var h wire.Host
	if code := call(t, srv, "POST", "/api/v1/hosts", map[string]any{"name": "rack1", "uri": "test:///default", "zone": "local-a",
		"reserved": map[string]any{"vcpus": 1, "memory_mib": 512}}, &h); code != http.StatusCreated {
		t.Fatalf("register: %d", code)
	}
	// The fake host has 2 CPUs and 4 GiB: (2-1)×16 vCPUs, (4096-512)×1 MiB.
	if h.Capacity.VCPUs != 16 || h.Capacity.MemoryMiB != 3584 || h.State != "enabled" {
		t.Fatalf("registered %+v", h)
	}
	var doc errDoc
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"an account listing", "GET", "/api/v1/hosts", nil, 403, "UnauthorizedOperation"},
		{"an account draining", "POST", "/api/v1/hosts/rack1/drain", nil, 403, "UnauthorizedOperation"},
		{"an account registering", "POST", "/api/v1/hosts", map[string]any{"name": "mine", "uri": "test:///default", "zone": "local-a"}, 403, "UnauthorizedOperation"},
	} {
		if code := callAs(t, srv, "bob", tc.method, tc.path, tc.body, &doc); code != tc.status || doc.Error.Code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, code, doc.Error.Code, tc.status, tc.code)
		}
	}
	for _, tc := range []struct {
		name, method, path string
		body               any
		status             int
		code               string
	}{
		{"a duplicate name", "POST", "/api/v1/hosts", map[string]any{"name": "rack1", "uri": "test:///default", "zone": "local-a"}, 409, "InvalidHost.Duplicate"},
		{"an unknown scheme", "POST", "/api/v1/hosts", map[string]any{"name": "x", "uri": "vbox:///x", "zone": "local-a"}, 400, "InvalidParameterValue"},
		{"an unknown host", "POST", "/api/v1/hosts/nope/drain", nil, 404, "InvalidHostID.NotFound"},
	} {
		if code := call(t, srv, tc.method, tc.path, tc.body, &doc); code != tc.status || doc.Error.Code != tc.code {
			t.Errorf("%s: %d %s, want %d %s", tc.name, code, doc.Error.Code, tc.status, tc.code)
		}
	}
	if code := call(t, srv, "POST", "/api/v1/hosts/rack1/drain", nil, &h); code != http.StatusOK || h.State != "draining" {
		t.Fatalf("drain: %d %+v", code, h)
	}
	if code := call(t, srv, "POST", "/api/v1/hosts/rack1/enable", nil, &h); code != http.StatusOK || h.State != "enabled" {
		t.Fatalf("enable: %d %+v", code, h)
	}
	var list wire.Hosts
	if call(t, srv, "GET", "/api/v1/hosts", nil, &list); len(list.Hosts) != 1 {
		t.Fatalf("listed %+v", list)
	}
	if code := call(t, srv, "DELETE", "/api/v1/hosts/rack1", nil, nil); code != http.StatusNoContent {
		t.Fatalf("remove: %d", code)
	}
}

func TestPlacementGroupsOverREST(t *testing.T) {
	srv, _, _ := newTestAPI(t)
	var g struct{ ID, Name, Strategy string }
	if code := callAs(t, srv, "111111111111", "POST", "/api/v1/placement-groups", map[string]any{"name": "db", "strategy": "cluster"}, &g); code != 201 || g.Name != "db" || g.ID == "" {
		t.Fatalf("create: %d %+v", code, g)
	}
	var doc errDoc
	if code := callAs(t, srv, "111111111111", "POST", "/api/v1/placement-groups", map[string]any{"name": "db", "strategy": "spread"}, &doc); code != 409 || doc.Error.Code != "InvalidPlacementGroup.Duplicate" {
		t.Fatalf("duplicate: %d %+v", code, doc)
	}
	var run struct {
		Instances []struct {
			ID             string
			PlacementGroup string `json:"placement_group"`
		}
	}
	if code := callAs(t, srv, "111111111111", "POST", "/api/v1/instances", map[string]any{"image": "tiny", "type": "t2.nano", "placement_group": "db"}, &run); code != 201 || run.Instances[0].PlacementGroup != "db" {
		t.Fatalf("run into db: %d %+v", code, run)
	}
	// Another account has no group of that name.
	if code := callAs(t, srv, "222222222222", "POST", "/api/v1/instances", map[string]any{"image": "tiny", "type": "t2.nano", "placement_group": "db"}, &doc); code != 404 || doc.Error.Code != "InvalidPlacementGroup.Unknown" {
		t.Fatalf("another account's group: %d %+v", code, doc)
	}
	if code := callAs(t, srv, "111111111111", "DELETE", "/api/v1/placement-groups/db", nil, &doc); code != 409 || doc.Error.Code != "InvalidPlacementGroup.InUse" {
		t.Fatalf("delete in use: %d %+v", code, doc)
	}
	var list struct {
		PlacementGroups []struct{ Name string } `json:"placement_groups"`
	}
	if code := callAs(t, srv, "222222222222", "GET", "/api/v1/placement-groups", nil, &list); code != 200 || len(list.PlacementGroups) != 0 {
		t.Fatalf("another account lists %d %+v", code, list)
	}
}

func TestLaunchTemplatesOverREST(t *testing.T) {
	srv, _, _ := newTestAPI(t)
	const alice = "111111111111"
	var v struct {
		TemplateID string `json:"template_id"`
		Version    int
	}
	if code := callAs(t, srv, alice, "POST", "/api/v1/launch-templates", map[string]any{"name": "web",
		"data": map[string]any{"image_id": "tiny", "instance_type": "t2.nano", "tags": []map[string]string{{"key": "role", "value": "web"}}}}, &v); code != 201 || v.Version != 1 {
		t.Fatalf("create: %d %+v", code, v)
	}
	if code := callAs(t, srv, alice, "POST", "/api/v1/launch-templates/web/versions", map[string]any{"source_version": "1",
		"data": map[string]any{"instance_type": "t2.small"}}, &v); code != 201 || v.Version != 2 {
		t.Fatalf("add a version: %d %+v", code, v)
	}
	var run struct {
		Instances []struct{ ID, Type string }
	}
	if code := callAs(t, srv, alice, "POST", "/api/v1/instances", map[string]any{"launch_template": "web", "launch_template_version": "$Latest"}, &run); code != 201 || run.Instances[0].Type != "t2.small" {
		t.Fatalf("run from $Latest: %d %+v", code, run)
	}
	// The request's own type wins over the template's.
	if code := callAs(t, srv, alice, "POST", "/api/v1/instances", map[string]any{"launch_template": v.TemplateID, "type": "t2.micro"}, &run); code != 201 || run.Instances[0].Type != "t2.micro" {
		t.Fatalf("run by id with a type: %d %+v", code, run)
	}
	var doc errDoc
	if code := callAs(t, srv, "222222222222", "POST", "/api/v1/instances", map[string]any{"launch_template": "web"}, &doc); code != 400 || doc.Error.Code != "InvalidLaunchTemplateName.NotFoundException" {
		t.Fatalf("another account's template: %d %+v", code, doc)
	}
	var versions struct {
		Versions []struct {
			Version int
			Default bool
			Data    struct {
				ImageID      string `json:"image_id"`
				InstanceType string `json:"instance_type"`
			}
		}
	}
	if code := callAs(t, srv, alice, "POST", "/api/v1/launch-templates/web/default", map[string]any{"version": "2"}, nil); code != 200 {
		t.Fatalf("set default: %d", code)
	}
	if code := callAs(t, srv, alice, "GET", "/api/v1/launch-templates/web/versions", nil, &versions); code != 200 || len(versions.Versions) != 2 ||
		!versions.Versions[1].Default || versions.Versions[1].Data.ImageID != "tiny" {
		t.Fatalf("versions: %d %+v", code, versions)
	}
	if code := callAs(t, srv, alice, "DELETE", "/api/v1/launch-templates/web", nil, nil); code != 204 {
		t.Fatalf("delete: %d", code)
	}
	if code := callAs(t, srv, alice, "GET", "/api/v1/launch-templates/web/versions", nil, &doc); code != 400 || doc.Error.Code != "InvalidLaunchTemplateName.NotFoundException" {
		t.Fatalf("versions of a deleted template: %d %+v", code, doc)
	}
}
