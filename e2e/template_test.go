package e2e

import (
	"context"
	"strings"
	"testing"
	"time"

	"kumo/internal/e2e"
)

// TestLaunchFromTemplate launches instances restored from a saved guest:
// each must come up with its own identity (id, address, MAC), survive a
// reboot, which boots the template's kernel command line again and needs
// the identity a second time, and boot normally after a stop and start.
func TestLaunchFromTemplate(t *testing.T) {
	c := e2e.Start(t, "--warm-types=t2.nano")
	c.WaitTemplates(1, 3*time.Minute)
	start := time.Now()
	ins := c.Run("--image", "kumo-tiny", "--type", "t2.nano", "--count", "2")
	wait := func(in e2e.Instance) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := e2e.WaitHTTP(ctx, in.PrivateIP, "/", in.ID); err != nil {
			t.Fatalf("%s: %v\nconsole:\n%s", in.ID, err, c.MustCLI("console-output", in.ID))
		}
	}
	for _, in := range ins {
		wait(in)
	}
	t.Logf("two restored instances answered %.2fs after the launch call", time.Since(start).Seconds())
	for _, in := range ins {
		if !strings.Contains(c.Log(), `msg="restored from template" instance=`+in.ID) {
			t.Errorf("%s booted instead of being restored", in.ID)
		}
	}
	a := ins[0]
	// A power button pressed while the guest still boots is lost, as on
	// real machines: reboot once it is fully up.
	for !strings.Contains(c.MustCLI("console-output", a.ID), "kumo-tiny: ready") {
		time.Sleep(100 * time.Millisecond)
	}
	c.MustCLI("reboot", a.ID)
	deadline := time.Now().Add(90 * time.Second)
	for strings.Count(c.MustCLI("console-output", a.ID), "kumo-tiny: ready") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no second start after reboot:\n%s", c.MustCLI("console-output", a.ID))
		}
		time.Sleep(500 * time.Millisecond)
	}
	wait(a)
	c.MustCLI("stop", "--wait", a.ID)
	c.MustCLI("start", "--wait", a.ID)
	wait(a)
	wait(ins[1])
	c.MustCLI("terminate", "--wait", a.ID, ins[1].ID)
}
