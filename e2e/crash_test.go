package e2e

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"kumo/internal/e2e"
)

// TestCrashDuringLaunchAndTerminate kills kumod with SIGKILL right after it
// accepted a launch, and again right after it accepted a terminate; each
// restart must finish the interrupted work and leak nothing.
func TestCrashDuringLaunchAndTerminate(t *testing.T) {
	c := e2e.Start(t)
	in := c.Run("--image", "kumo-tiny", "--type", "t2.nano")[0]
	c.Kill9()
	c.Restart()
	c.WaitState(in.ID, "running", 60*time.Second)
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	if err := e2e.WaitHTTP(ctx, in.PrivateIP, "/", in.ID); err != nil {
		t.Fatal(err)
	}

	c.MustCLI("terminate", in.ID)
	c.Kill9()
	c.Restart()
	got := c.WaitState(in.ID, "terminated", 60*time.Second)
	if got.PrivateIP != "" {
		t.Errorf("address %s not released", got.PrivateIP)
	}
	if e2e.Domains(t)[in.ID] {
		t.Errorf("domain %s left behind", in.ID)
	}
	if _, err := os.Stat(filepath.Join(c.DataDir, "instances", in.ID)); !os.IsNotExist(err) {
		t.Errorf("disks left behind")
	}
}
