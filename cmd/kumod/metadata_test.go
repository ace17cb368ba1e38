package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"testing"
	"time"

	"kumo/internal/clock"
	"kumo/keypairs"
	"kumo/metadata"
	"kumo/store"
)

// TestMetadataServesTheLaunchKey follows an instance's key pair through
// the metadata service: served while it is the key the instance was
// launched with, gone once deleted, and not replaced by a new key of the
// same name.
func TestMetadataServesTheLaunchKey(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "kumo.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	clk := clock.NewFake(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))
	keys := keypairs.New(st, clk)
	key, _, err := keys.Create(ctx, "alice", "web", keypairs.ED25519)
	if err != nil {
		t.Fatal(err)
	}
	clk.Advance(time.Second)
	if err := st.InsertImage(ctx, store.Image{ID: "ami-1", Name: "tiny", State: "available", CreatedAt: clk.Now()}); err != nil {
		t.Fatal(err)
	}
	pool := store.Pool{Network: "kumo", Prefix: netip.MustParsePrefix("10.77.0.0/24")}
	rows := []store.Instance{
		{ID: "i-00000000000000001", Owner: "alice", ImageID: "ami-1", Type: "t2.micro", State: "running", MAC: "52:54:00:00:00:01", KeyName: "web", LaunchedAt: clk.Now()},
		{ID: "i-00000000000000002", Owner: "alice", ImageID: "ami-1", Type: "t2.micro", State: "running", MAC: "52:54:00:00:00:02", LaunchedAt: clk.Now()},
	}
	launched, err := st.CreateInstances(ctx, store.Launch{Pool: pool, Instances: rows})
	if err != nil {
		t.Fatal(err)
	}
	srv := metadata.New(metadataLookup(config{network: "kumo", region: "local", zone: "local-a"}, st, keys), clk)
	get := func(in store.Instance, path string) (int, string) {
		r := httptest.NewRequest(http.MethodGet, path, nil)
		r.RemoteAddr = in.PrivateIP + ":40000"
		w := httptest.NewRecorder()
		srv.ServeHTTP(w, r)
		return w.Code, w.Body.String()
	}
	withKey, without := launched[0], launched[1]

	type answer struct {
		code int
		body string
	}
	check := func(when string, cases map[string]answer, in store.Instance) {
		t.Helper()
		for path, want := range cases {
			if code, body := get(in, path); code != want.code || (want.body != "" && body != want.body) {
				t.Errorf("%s, %s %s: %d %q, want %d %q", when, in.ID, path, code, body, want.code, want.body)
			}
		}
	}
	check("launched", map[string]answer{
		"/latest/meta-data/public-keys/":              {200, "0=web"},
		"/latest/meta-data/public-keys/0/openssh-key": {200, key.PublicKey + " web"},
	}, withKey)
	check("launched without a key", map[string]answer{"/latest/meta-data/public-keys/": {404, ""}}, without)

	if err := keys.Delete(ctx, "alice", "web", ""); err != nil {
		t.Fatal(err)
	}
	check("key deleted", map[string]answer{
		"/latest/meta-data/public-keys/": {404, ""},
		"/latest/meta-data/instance-id":  {200, withKey.ID},
	}, withKey)

	clk.Advance(time.Second)
	if _, _, err := keys.Create(ctx, "alice", "web", keypairs.ED25519); err != nil {
		t.Fatal(err)
	}
	check("another key made under the name", map[string]answer{"/latest/meta-data/public-keys/": {404, ""}}, withKey)
}
