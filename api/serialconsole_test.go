package api

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// runningInstance launches one instance for account and waits until it runs.
func runningInstance(t *testing.T, srv *httptest.Server, account string) string {
	t.Helper()
	var run struct{ Instances []struct{ ID string } }
	if code := callAs(t, srv, account, "POST", "/api/v1/instances", map[string]any{"image": "tiny", "type": "t2.nano"}, &run); code != 201 {
		t.Fatalf("run: %d", code)
	}
	id := run.Instances[0].ID
	deadline := time.Now().Add(5 * time.Second)
	for {
		var in struct{ State struct{ Name string } }
		callAs(t, srv, account, "GET", "/api/v1/instances/"+id, nil, &in)
		if in.State.Name == "running" {
			return id
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s is %s, want running", id, in.State.Name)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func dialConsole(ctx context.Context, srv *httptest.Server, id string, header http.Header) (*websocket.Conn, *http.Response, error) {
	url := "ws" + strings.TrimPrefix(srv.URL, "http") + "/api/v1/instances/" + id + "/serial-console"
	return websocket.Dial(ctx, url, &websocket.DialOptions{HTTPHeader: header})
}

// readConsole reads from a console websocket until the output holds want.
func readConsole(t *testing.T, ctx context.Context, c *websocket.Conn, want string) {
	t.Helper()
	var got strings.Builder
	for !strings.Contains(got.String(), want) {
		_, b, err := c.Read(ctx)
		if err != nil {
			t.Fatalf("console ended (%v) before %q; got %q", err, want, got.String())
		}
		got.Write(b)
	}
}

func TestSerialConsoleOverWebsocket(t *testing.T) {
	srv, _, _ := newTestAPI(t)
	id := runningInstance(t, srv, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	a, _, err := dialConsole(ctx, srv, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer a.CloseNow()
	b, _, err := dialConsole(ctx, srv, id, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer b.CloseNow()
	if err := a.Write(ctx, websocket.MessageText, []byte("echo hello\r")); err != nil {
		t.Fatal(err)
	}
	readConsole(t, ctx, a, "hello\r\n# ")
	readConsole(t, ctx, b, "hello\r\n# ")

	if code := call(t, srv, "POST", "/api/v1/instances/"+id+"/stop", map[string]any{"force": true}, nil); code != 200 {
		t.Fatalf("stop: %d", code)
	}
	for {
		if _, _, err = b.Read(ctx); err != nil {
			break
		}
	}
	if websocket.CloseStatus(err) != websocket.StatusNormalClosure {
		t.Errorf("console of a stopped instance ended with %v, want a normal close", err)
	}
}

func TestSerialConsoleRefusals(t *testing.T) {
	srv, _, _ := newTestAPI(t)
	id := runningInstance(t, srv, "")
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	cases := map[string]struct {
		header http.Header
		id     string
		status int
	}{
		// A page of another site must not reach the console with the
		// browser's cookie.
		"another site's page": {header: http.Header{"Origin": {"https://elsewhere.example"}}, id: id, status: http.StatusForbidden},
		"another account":     {header: http.Header{testAccountHeader: {"210987654321"}}, id: id, status: http.StatusNotFound},
		"unknown instance":    {id: "i-0123456789abcdef0", status: http.StatusNotFound},
		"malformed id":        {id: "web", status: http.StatusBadRequest},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			c, resp, err := dialConsole(ctx, srv, tc.id, tc.header)
			if err == nil {
				c.CloseNow()
				t.Fatal("the console opened")
			}
			if resp == nil || resp.StatusCode != tc.status {
				t.Fatalf("dial: %v (response %+v), want HTTP %d", err, resp, tc.status)
			}
		})
	}
}
