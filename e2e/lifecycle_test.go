package e2e

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"kumo/internal/e2e"
)

// TestInstanceLifecycle drives the whole life of real instances through the
// CLI: launch two, reach each over HTTP on its private address, reboot one,
// stop and start it, save a stopped one as an image and boot that, then
// terminate everything and check nothing is left behind.
func TestInstanceLifecycle(t *testing.T) {
	// No templates at start: these instances boot; TestLaunchFromTemplate
	// covers restored ones.
	c := e2e.Start(t, "--warm-types=")
	if out := c.MustCLI("images", "ls"); !strings.Contains(out, "kumo-tiny") {
		t.Fatalf("default image missing:\n%s", out)
	}
	// The user data leaves a mark on the root disk, which must survive a
	// stop and be in an image made from the instance.
	userData := filepath.Join(t.TempDir(), "boot.sh")
	os.WriteFile(userData, []byte("#!/bin/sh\n[ -f /data/born ] || hostname > /data/born\ncp /data/born /www/born\n"), 0o644)
	// Launched from a template that holds the image, type and user data.
	c.MustCLI("launch-templates", "create", "web", "--image", "kumo-tiny", "--type", "t2.nano", "--user-data", userData)
	started := time.Now()
	ins := c.Run("--launch-template", "web", "--count", "2", "--name", "web")
	if len(ins) != 2 {
		t.Fatalf("launched %d instances", len(ins))
	}
	waitHTTP := func(in e2e.Instance, path, want string) {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
		defer cancel()
		if err := e2e.WaitHTTP(ctx, in.PrivateIP, path, want); err != nil {
			t.Fatalf("%s: %v\nconsole:\n%s", in.ID, err, c.MustCLI("console-output", in.ID))
		}
	}
	for _, in := range ins {
		waitHTTP(in, "/", in.ID)
	}
	t.Logf("two instances answered HTTP %.1fs after the launch call", time.Since(started).Seconds())
	// The local host holds their capacity: two t2.nano, 1 vCPU and 512 MiB each.
	var fleet struct {
		Hosts []struct {
			Name, Health string
			Used         struct {
				VCPUs     int   `json:"vcpus"`
				MemoryMiB int64 `json:"memory_mib"`
			}
			Instances int
		}
	}
	if err := json.Unmarshal([]byte(c.MustCLI("hosts", "ls", "--json")), &fleet); err != nil || len(fleet.Hosts) != 1 {
		t.Fatalf("hosts: %+v %v", fleet, err)
	}
	if h := fleet.Hosts[0]; h.Name != "local" || h.Health != "up" || h.Instances != 2 || h.Used.VCPUs != 2 || h.Used.MemoryMiB != 1024 {
		t.Fatalf("the local host: %+v", h)
	}
	for _, in := range ins {
		c.WaitState(in.ID, "running", 10*time.Second)
		waitHTTP(in, "/born", in.ID)
	}
	a, b := ins[0], ins[1]

	// The serial console: the guest's root shell answers what is typed.
	// The shell computes the answer, so it cannot be the typed line's echo.
	if out, err := c.CLIInput(strings.NewReader("echo console-$((6*7))\n"), "console", a.ID); err != nil || !strings.Contains(out, "console-42") {
		t.Fatalf("kumo console: %v\n%s", err, out)
	}

	// Reboot: the guest goes through its shutdown and boots again.
	c.MustCLI("reboot", a.ID)
	deadline := time.Now().Add(90 * time.Second)
	for strings.Count(c.MustCLI("console-output", a.ID), "kumo-tiny: ready") < 2 {
		if time.Now().After(deadline) {
			t.Fatalf("no second boot after reboot:\n%s", c.MustCLI("console-output", a.ID))
		}
		time.Sleep(500 * time.Millisecond)
	}
	waitHTTP(a, "/", a.ID)
	if got := c.Describe(a.ID); got.State.Name != "running" {
		t.Fatalf("after reboot: %s", got.State.Name)
	}

	// Stop and start: a clean ACPI shutdown, same address afterwards.
	c.MustCLI("stop", "--wait", a.ID)
	if _, err := e2e.GuestGet(a.PrivateIP, "/"); err == nil {
		t.Fatal("a stopped instance still answers")
	}
	if out := c.MustCLI("console-output", a.ID); !strings.Contains(out, "kumo-tiny: stopped") {
		t.Errorf("the guest did not shut down cleanly:\n%s", out)
	}
	c.MustCLI("start", "--wait", a.ID)
	if got := c.Describe(a.ID); got.PrivateIP != a.PrivateIP {
		t.Fatalf("address changed across stop/start: %s -> %s", a.PrivateIP, got.PrivateIP)
	}
	waitHTTP(a, "/", a.ID)

	// An image of a stopped instance holds its disk: an instance launched
	// from it finds the mark its ancestor wrote.
	c.MustCLI("stop", "--wait", b.ID)
	out := c.MustCLI("images", "create", b.ID, "--name", "web-saved", "--json")
	if !strings.Contains(out, "ami-") {
		t.Fatalf("create image: %s", out)
	}
	child := c.Run("--image", "web-saved", "--type", "t2.nano", "--user-data", userData)[0]
	waitHTTP(child, "/", child.ID)
	waitHTTP(child, "/born", b.ID)

	// Terminate everything: no domain, disk or address may be left.
	all := []string{a.ID, b.ID, child.ID}
	c.MustCLI(append([]string{"terminate", "--wait"}, all...)...)
	domains := e2e.Domains(t)
	for _, id := range all {
		if domains[id] {
			t.Errorf("domain %s left behind", id)
		}
		if got := c.Describe(id); got.PrivateIP != "" {
			t.Errorf("%s keeps address %s", id, got.PrivateIP)
		}
		if _, err := os.Stat(filepath.Join(c.DataDir, "instances", id)); !os.IsNotExist(err) {
			t.Errorf("disks of %s left behind", id)
		}
	}
}
