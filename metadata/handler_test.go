package metadata

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"kumo/internal/clock"
)

var web = Instance{
	ID: "i-0123456789abcdef0", ImageID: "ami-0123456789abcdef0", Type: "t2.micro", PrivateIP: "10.77.0.5",
	MAC: "52:54:00:00:00:05", AccountID: "123456789012", Region: "local", Zone: "local-a",
	LaunchedAt: time.Date(2026, 11, 29, 8, 0, 0, 0, time.UTC), UserData: []byte("#!/bin/sh\necho hi\n"),
	PublicKeys: []PublicKey{{Name: "laptop", OpenSSH: "ssh-ed25519 AAAA laptop"}},
}

// fixture serves web at 10.77.0.5 and nothing anywhere else.
func fixture(t *testing.T) (*Server, *clock.Fake) {
	t.Helper()
	clk := clock.NewFake(time.Unix(1_800_000_000, 0))
	lookup := func(ctx context.Context, ip netip.Addr) (Instance, error) {
		if ip.String() == web.PrivateIP {
			return web, nil
		}
		if ip.String() == "10.77.0.6" {
			return Instance{ID: "i-0fedcba9876543210", PrivateIP: "10.77.0.6"}, nil
		}
		return Instance{}, ErrUnknownAddress
	}
	return New(lookup, clk), clk
}

func do(s *Server, method, path, from string, headers map[string]string) (int, string, http.Header) {
	r := httptest.NewRequest(method, path, nil)
	r.RemoteAddr = from + ":43210"
	for k, v := range headers {
		r.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	s.ServeHTTP(w, r)
	body, _ := io.ReadAll(w.Result().Body)
	return w.Code, string(body), w.Result().Header
}

func TestMetadataPaths(t *testing.T) {
	s, _ := fixture(t)
	cases := []struct {
		path   string
		status int
		body   string
	}{
		{"/latest/meta-data/instance-id", 200, web.ID},
		{"/latest/meta-data/ami-id", 200, web.ImageID},
		{"/latest/meta-data/instance-type", 200, "t2.micro"},
		{"/latest/meta-data/local-ipv4", 200, "10.77.0.5"},
		{"/latest/meta-data/hostname", 200, web.ID},
		{"/latest/meta-data/mac", 200, web.MAC},
		{"/latest/meta-data/placement/availability-zone", 200, "local-a"},
		{"/latest/meta-data/placement/", 200, "availability-zone\nregion"},
		{"/latest/meta-data/public-keys/", 200, "0=laptop"},
		{"/latest/meta-data/public-keys/0/", 200, "openssh-key"},
		{"/latest/meta-data/public-keys/0/openssh-key", 200, "ssh-ed25519 AAAA laptop"},
		{"/latest/meta-data/public-keys/1/openssh-key", 404, ""},
		{"/latest/meta-data/public-keys/00/openssh-key", 404, ""},
		{"/latest/user-data", 200, "#!/bin/sh\necho hi\n"},
		{"/latest/meta-data/nope", 404, ""},
		{"/2009-04-04/meta-data/instance-id", 404, ""},
		{"/latest", 200, "dynamic\nmeta-data\nuser-data"},
	}
	for _, c := range cases {
		status, body, _ := do(s, "GET", c.path, "10.77.0.5", nil)
		if status != c.status || (c.status == 200 && body != c.body) {
			t.Errorf("GET %s = %d %q, want %d %q", c.path, status, body, c.status, c.body)
		}
	}
	status, listing, _ := do(s, "GET", "/latest/meta-data/", "10.77.0.5", nil)
	if status != 200 || !strings.Contains(listing, "instance-id\n") || !strings.HasSuffix(listing, "\npublic-keys/") {
		t.Errorf("meta-data listing %d %q", status, listing)
	}
	status, doc, hdr := do(s, "GET", "/latest/dynamic/instance-identity/document", "10.77.0.5", nil)
	var parsed map[string]string
	if status != 200 || json.Unmarshal([]byte(doc), &parsed) != nil || parsed["instanceId"] != web.ID ||
		parsed["accountId"] != "123456789012" || hdr.Get("Content-Type") != "application/json" {
		t.Errorf("identity document %d %q", status, doc)
	}
}

// TestEachGuestSeesOnlyItself asks the same paths from two addresses and
// from one no instance holds.
func TestEachGuestSeesOnlyItself(t *testing.T) {
	s, _ := fixture(t)
	if _, body, _ := do(s, "GET", "/latest/meta-data/instance-id", "10.77.0.6", nil); body != "i-0fedcba9876543210" {
		t.Errorf("second guest got %q", body)
	}
	if status, _, _ := do(s, "GET", "/latest/user-data", "10.77.0.6", nil); status != 404 {
		t.Errorf("guest without user data: %d", status)
	}
	if status, _, _ := do(s, "GET", "/latest/meta-data/instance-id", "10.77.0.99", nil); status != 404 {
		t.Errorf("unknown address: %d", status)
	}
}

func TestSessionTokens(t *testing.T) {
	s, clk := fixture(t)
	status, tok, hdr := do(s, "PUT", "/latest/api/token", "10.77.0.5", map[string]string{tokenTTLHeader: "60"})
	if status != 200 || tok == "" || hdr.Get(tokenTTLHeader) != "60" {
		t.Fatalf("token: %d %q", status, tok)
	}
	with := map[string]string{tokenHeader: tok}
	if status, body, _ := do(s, "GET", "/latest/meta-data/instance-id", "10.77.0.5", with); status != 200 || body != web.ID {
		t.Fatalf("with token: %d %q", status, body)
	}
	if status, _, _ := do(s, "GET", "/latest/meta-data/instance-id", "10.77.0.6", with); status != 401 {
		t.Errorf("another guest's token: %d, want 401", status)
	}
	if status, _, _ := do(s, "GET", "/latest/meta-data/instance-id", "10.77.0.5", map[string]string{tokenHeader: tok[:len(tok)-2] + "AA"}); status != 401 {
		t.Errorf("forged token: %d, want 401", status)
	}
	clk.Advance(61 * time.Second)
	if status, _, _ := do(s, "GET", "/latest/meta-data/instance-id", "10.77.0.5", with); status != 401 {
		t.Errorf("expired token: %d, want 401", status)
	}
	bad := []struct {
		name    string
		method  string
		from    string
		headers map[string]string
		status  int
	}{
		{"no ttl", "PUT", "10.77.0.5", nil, 400},
		{"ttl zero", "PUT", "10.77.0.5", map[string]string{tokenTTLHeader: "0"}, 400},
		{"ttl above six hours", "PUT", "10.77.0.5", map[string]string{tokenTTLHeader: "21601"}, 400},
		{"through a proxy", "PUT", "10.77.0.5", map[string]string{tokenTTLHeader: "60", "X-Forwarded-For": "10.0.0.1"}, 403},
		{"GET the token path", "GET", "10.77.0.5", map[string]string{tokenTTLHeader: "60"}, 405},
		{"unknown guest", "PUT", "10.77.0.99", map[string]string{tokenTTLHeader: "60"}, 404},
	}
	for _, c := range bad {
		if status, _, _ := do(s, c.method, "/latest/api/token", c.from, c.headers); status != c.status {
			t.Errorf("%s: %d, want %d", c.name, status, c.status)
		}
	}
	if status, _, _ := do(s, "POST", "/latest/meta-data/instance-id", "10.77.0.5", nil); status != 405 {
		t.Errorf("POST: %d, want 405", status)
	}
}
