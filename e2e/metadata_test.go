package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kumo/internal/e2e"
)

// TestGuestsReadTheirOwnMetadata has two guests ask the metadata service at
// 169.254.169.254 who they are and what their user data is, and publish
// the answers over HTTP: each must have been told its own identity.
func TestGuestsReadTheirOwnMetadata(t *testing.T) {
	c := e2e.Start(t, "--warm-types=t2.nano")
	c.WaitTemplates(1, 3*time.Minute)
	userData := filepath.Join(t.TempDir(), "ask.sh")
	os.WriteFile(userData, []byte("#!/bin/sh\n"+
		"md=http://169.254.169.254/latest\n"+
		"wget -q -O /www/iid $md/meta-data/instance-id\n"+
		"wget -q -O /www/ip $md/meta-data/local-ipv4\n"+
		"wget -q -O /www/ud $md/user-data\n"), 0o644)
	ins := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--count", "2", "--user-data", userData)
	for _, in := range ins {
		for path, want := range map[string]string{"/iid": in.ID, "/ip": in.PrivateIP, "/ud": "169.254.169.254/latest"} {
			ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
			err := e2e.WaitHTTP(ctx, in.PrivateIP, path, want)
			cancel()
			if err != nil {
				t.Fatalf("%s %s: %v\nconsole:\n%s", in.ID, path, err, c.MustCLI("console-output", in.ID))
			}
		}
	}
}
