package e2e

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/internal/e2e"
)

// TestGuestPowerOffIsSeen checks that a guest powering itself off shows up
// as a stopped instance promptly, through libvirt's lifecycle events rather
// than the periodic resync (which runs every 30 s).
func TestGuestPowerOffIsSeen(t *testing.T) {
	c := e2e.Start(t)
	userData := filepath.Join(t.TempDir(), "halt.sh")
	os.WriteFile(userData, []byte("#!/bin/sh\necho about to power off\npoweroff\n"), 0o644)
	in := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--user-data", userData)[0]
	deadline := time.Now().Add(90 * time.Second)
	for !strings.Contains(c.MustCLI("console-output", in.ID), "kumo-tiny: stopped") {
		if time.Now().After(deadline) {
			t.Fatalf("guest never powered off:\n%s", c.MustCLI("console-output", in.ID))
		}
		time.Sleep(100 * time.Millisecond)
	}
	got := c.WaitState(in.ID, "stopped", 10*time.Second)
	if !strings.Contains(got.StateReason, "InstanceInitiatedShutdown") {
		t.Errorf("state reason %q", got.StateReason)
	}
}
