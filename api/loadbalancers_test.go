package api

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"kumo/api/wire"
)

func TestLoadBalancerOverHTTP(t *testing.T) {
	srv, _, _ := newTestAPI(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "backend") })}
	go backend.Serve(ln)
	t.Cleanup(func() { backend.Close() })
	port := freePort(t)

	var lb wire.LoadBalancer
	code := call(t, srv, "POST", "/api/v1/load-balancers", map[string]any{
		"name": "web", "listeners": []map[string]int{{"port": port, "target_port": 80}},
		"health_check":                 map[string]any{"protocol": "tcp", "interval_seconds": 5, "timeout_seconds": 2, "healthy_threshold": 2},
		"deregistration_delay_seconds": 10, "connect_timeout_ms": 500,
	}, &lb)
	hc := lb.HealthCheck
	if code != http.StatusCreated || lb.State != "active" || lb.BindAddr != "127.0.0.1" || hc.Protocol != "TCP" ||
		hc.IntervalSeconds != 5 || hc.TimeoutSeconds != 2 || hc.HealthyThreshold != 2 || hc.UnhealthyThreshold != 2 ||
		lb.DeregistrationDelaySeconds != 10 || lb.IdleTimeoutSeconds != 350 || lb.ConnectTimeoutMS != 500 {
		t.Fatalf("create: %d %+v", code, lb)
	}
	if code := call(t, srv, "POST", "/api/v1/load-balancers/web/targets", wire.TargetsRequest{Targets: []string{ln.Addr().String()}}, &lb); code != http.StatusOK || len(lb.Stats.Targets) != 1 {
		t.Fatalf("register: %d %+v", code, lb.Stats)
	}
	resp, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/", port))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if string(body) != "backend" {
		t.Fatalf("through the load balancer: %q", body)
	}

	if code := call(t, srv, "PATCH", "/api/v1/load-balancers/"+lb.ID, map[string]any{
		"algorithm": "least_connections", "health_check": map[string]any{"interval_seconds": 10},
	}, &lb); code != http.StatusOK || lb.Algorithm != "least_connections" || lb.HealthCheck.IntervalSeconds != 10 || lb.HealthCheck.TimeoutSeconds != 2 {
		t.Fatalf("update: %d %+v", code, lb)
	}
	if lb.Stats.NewConnections < 1 || lb.Stats.Targets[0].NewConnections < 1 || lb.Stats.Targets[0].BytesOut == 0 {
		t.Fatalf("metrics after one request: %+v", lb.Stats)
	}

	// An instance follows its state into the load balancer, and leaves it
	// when terminated.
	var run wire.Instances
	if code := call(t, srv, "POST", "/api/v1/instances", map[string]any{"image": "tiny", "type": "t2.nano"}, &run); code != http.StatusCreated {
		t.Fatalf("run: %d", code)
	}
	id := run.Instances[0].ID
	if code := call(t, srv, "POST", "/api/v1/load-balancers/web/targets", wire.TargetsRequest{Targets: []string{id}}, &lb); code != http.StatusOK || len(lb.Stats.Targets) != 2 {
		t.Fatalf("register instance: %d %+v", code, lb.Stats)
	}
	until := func(what string, cond func(wire.TargetHealth, bool) bool) {
		t.Helper()
		deadline := time.Now().Add(5 * time.Second)
		for {
			call(t, srv, "GET", "/api/v1/load-balancers/web", nil, &lb)
			var found wire.TargetHealth
			ok := false
			for _, th := range lb.Stats.Targets {
				if th.ID == id {
					found, ok = th, true
				}
			}
			if cond(found, ok) {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("%s: %+v", what, lb.Stats.Targets)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	until("the instance to run and be checked", func(th wire.TargetHealth, ok bool) bool { return ok && th.State != "unused" })
	if code := call(t, srv, "POST", "/api/v1/instances/"+id+"/stop", map[string]bool{"force": true}, nil); code != http.StatusOK {
		t.Fatalf("stop: %d", code)
	}
	until("the stopped instance to be unused", func(th wire.TargetHealth, ok bool) bool {
		return ok && th.State == "unused" && th.Description == "Target is in the stopped state"
	})
	if code := call(t, srv, "DELETE", "/api/v1/instances/"+id, nil, nil); code != http.StatusOK {
		t.Fatalf("terminate: %d", code)
	}
	until("the terminated instance to leave", func(_ wire.TargetHealth, ok bool) bool { return !ok })

	// The client's kept-alive connection may hold the target draining.
	code = call(t, srv, "POST", "/api/v1/load-balancers/web/targets/deregister", wire.TargetsRequest{Targets: []string{ln.Addr().String()}}, &lb)
	if ts := lb.Stats.Targets; code != http.StatusOK || len(ts) > 1 || len(ts) == 1 && ts[0].State != "draining" {
		t.Fatalf("deregister: %d %+v", code, lb.Stats)
	}
	var list wire.LoadBalancers
	if code := call(t, srv, "GET", "/api/v1/load-balancers", nil, &list); code != http.StatusOK || len(list.LoadBalancers) != 1 {
		t.Fatalf("list: %d %+v", code, list)
	}
	if code := call(t, srv, "DELETE", "/api/v1/load-balancers/web", nil, nil); code != http.StatusNoContent {
		t.Fatalf("delete: %d", code)
	}
	var doc errDoc
	if code := call(t, srv, "GET", "/api/v1/load-balancers/web", nil, &doc); code != http.StatusNotFound || doc.Error.Code != "LoadBalancerNotFound" {
		t.Fatalf("after delete: %d %+v", code, doc)
	}
}
