package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"testing"
	"time"

	"kumo/api/sigv4"
)

// TestLBCommandsSendWhatWasGiven runs each command against a server that
// records the request, and checks that only the flags given are sent.
func TestLBCommandsSendWhatWasGiven(t *testing.T) {
	type request struct {
		method, path string
		body         any
	}
	var got []request
	t.Setenv("AWS_ACCESS_KEY_ID", "AKIACLITEST000000001")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "cli-test-secret")
	keys := sigv4.LookupFunc(func(_ context.Context, id string) (string, string, error) {
		if id != "AKIACLITEST000000001" {
			return "", "", sigv4.ErrUnknownKey
		}
		return "cli-test-secret", "123456789012", nil
	})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		data, _ := io.ReadAll(r.Body)
		if id, err := sigv4.Verify(r, data, time.Now(), keys); err != nil || id.Service != "kumo" {
			t.Errorf("%s %s: signature %+v, %v", r.Method, r.URL.Path, id, err)
		}
		req := request{method: r.Method, path: r.URL.Path}
		if len(data) > 0 {
			json.Unmarshal(data, &req.body)
		}
		got = append(got, req)
		if r.Method == "DELETE" {
			w.WriteHeader(http.StatusNoContent)
			return
		}
		io.WriteString(w, `{"id":"lb-0123456789abcdef0","name":"web","state":"active","load_balancers":[]}`)
	}))
	defer srv.Close()
	stdout := os.Stdout
	os.Stdout, _ = os.Open(os.DevNull)
	defer func() { os.Stdout = stdout }()

	obj := func(kv ...any) map[string]any {
		m := map[string]any{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	listener := func(port, target float64) map[string]any { return obj("port", port, "target_port", target) }
	for _, tc := range []struct {
		name string
		args []string
		want *request // nil: refused before sending
	}{
		{"create with defaults", []string{"lb", "create", "--name", "web", "--listen", "8081:80"},
			&request{"POST", "/api/v1/load-balancers", obj("name", "web", "listeners", []any{listener(8081, 80)})}},
		{"create with everything", []string{"lb", "create", "--name", "web", "--listen", "8081:80", "--listen", "8443",
			"--bind", "0.0.0.0", "--algorithm", "source_hash", "--health-check", "http", "--health-path", "/up",
			"--health-port", "8080", "--matcher", "200", "--interval", "10s", "--timeout", "5s", "--healthy-threshold", "3",
			"--unhealthy-threshold", "4", "--deregistration-delay", "1m", "--idle-timeout", "2m", "--connect-timeout", "1500ms",
			"--proxy-protocol"},
			&request{"POST", "/api/v1/load-balancers", obj("name", "web",
				"listeners", []any{listener(8081, 80), listener(8443, 8443)}, "bind_addr", "0.0.0.0", "algorithm", "source_hash",
				"health_check", obj("protocol", "http", "path", "/up", "port", 8080.0, "matcher", "200", "interval_seconds", 10.0,
					"timeout_seconds", 5.0, "healthy_threshold", 3.0, "unhealthy_threshold", 4.0),
				"deregistration_delay_seconds", 60.0, "idle_timeout_seconds", 120.0, "connect_timeout_ms", 1500.0, "proxy_protocol", true)}},
		{"set only what is given", []string{"lb", "set", "web", "--interval", "15s", "--proxy-protocol=false"},
			&request{"PATCH", "/api/v1/load-balancers/web", obj("health_check", obj("interval_seconds", 15.0), "proxy_protocol", false)}},
		{"set the traffic port back", []string{"lb", "set", "web", "--health-port", "0"},
			&request{"PATCH", "/api/v1/load-balancers/web", obj("health_check", obj("port", 0.0))}},
		{"set listeners", []string{"lb", "set", "web", "--listen", "9000"},
			&request{"PATCH", "/api/v1/load-balancers/web", obj("listeners", []any{listener(9000, 9000)})}},
		{"interval in part seconds", []string{"lb", "set", "web", "--interval", "1500ms"}, nil},
		{"listener not a port", []string{"lb", "create", "--name", "web", "--listen", "http:80"}, nil},
		{"register", []string{"lb", "register", "web", "i-0123456789abcdef0", "127.0.0.1:9000"},
			&request{"POST", "/api/v1/load-balancers/web/targets", obj("targets", []any{"i-0123456789abcdef0", "127.0.0.1:9000"})}},
		{"deregister", []string{"lb", "deregister", "web", "127.0.0.1:9000"},
			&request{"POST", "/api/v1/load-balancers/web/targets/deregister", obj("targets", []any{"127.0.0.1:9000"})}},
		{"register without targets", []string{"lb", "register", "web"}, nil},
		{"describe", []string{"lb", "describe", "web"}, &request{"GET", "/api/v1/load-balancers/web", nil}},
		{"list", []string{"lb", "ls"}, &request{"GET", "/api/v1/load-balancers", nil}},
		{"delete", []string{"lb", "rm", "web"}, &request{"DELETE", "/api/v1/load-balancers/web", nil}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got = nil
			root := newRoot()
			root.SetArgs(append(tc.args, "--endpoint", srv.URL))
			root.SetErr(io.Discard)
			err := root.Execute()
			if tc.want == nil {
				if err == nil || len(got) != 0 {
					t.Fatalf("err = %v, sent %+v; want refused before sending", err, got)
				}
				return
			}
			if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], *tc.want) {
				t.Fatalf("err = %v, sent %+v\nwant %+v", err, got, *tc.want)
			}
		})
	}
}
