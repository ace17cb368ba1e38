package instances

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"kumo/hypervisor"
)

func withTemplates(dir string) func(*Config) {
	return func(c *Config) { c.TemplateDir = dir }
}

// readyTemplateFor warms a template and plays the template guest opening
// its identity port, then waits until the template is saved.
func (e *env) readyTemplateFor(typ string) string {
	e.t.Helper()
	if err := e.svc.Warm(context.Background(), e.imageID, typ); err != nil {
		e.t.Fatal(err)
	}
	var name string
	e.eventually("the template guest to run", func() bool {
		domains, _ := e.driver.List(context.Background())
		for _, d := range domains {
			if strings.HasPrefix(d.Name, templatePrefix) && d.State == hypervisor.PowerRunning {
				name = d.Name
				return true
			}
		}
		return false
	})
	sp, _ := e.driver.Spec(name)
	if !strings.Contains(sp.Cmdline, "kumo.wait=identity") || sp.NICs[0].MAC != templateMAC {
		e.t.Fatalf("template spec: cmdline %q, NIC %+v", sp.Cmdline, sp.NICs)
	}
	if err := e.driver.SetChannelConnected(name, identityChannel, true); err != nil {
		e.t.Fatal(err)
	}
	typ2, _ := LookupType(typ)
	im, _ := e.store.Image(context.Background(), e.imageID)
	path := e.svc.templateMemory(templateKey(im, typ2))
	e.eventually("the template to be saved", func() bool {
		_, err := os.Stat(path)
		_, derr := e.driver.Inspect(context.Background(), name)
		return err == nil && errors.Is(derr, hypervisor.ErrNotFound)
	})
	return path
}

func TestLaunchRestoresFromTemplate(t *testing.T) {
	e := newEnv(t, withTemplates(filepath.Join(t.TempDir(), "templates")))
	e.pumpClock()
	path := e.readyTemplateFor("t2.micro")
	id := e.run(1)[0].ID
	got := e.waitState(id, Running)
	if from, ok := e.driver.RestoredFrom(id); !ok || from != path {
		t.Fatalf("instance was not restored from %s (got %q, %v)", path, from, ok)
	}
	lines := e.driver.Written(id, identityChannel)
	if len(lines) != 1 {
		t.Fatalf("identity written %d times", len(lines))
	}
	for _, want := range []string{"kumo.id=" + id, "kumo.ip=" + got.PrivateIP + "/24", "kumo.mac=" + got.MAC, "kumo.time=", "kumo.seed="} {
		if !strings.Contains(string(lines[0]), want) {
			t.Errorf("identity %q lacks %q", lines[0], want)
		}
	}
	// A restart boots from the instance's own definition.
	e.svc.Stop(context.Background(), []string{id}, true)
	e.waitState(id, Stopped)
	e.svc.Start(context.Background(), []string{id})
	e.waitState(id, Running)
	if _, ok := e.driver.RestoredFrom(id); ok {
		t.Fatal("a restart was restored from the template")
	}
}

func TestRebootedCopyIsToldItsIdentityAgain(t *testing.T) {
	e := newEnv(t, withTemplates(filepath.Join(t.TempDir(), "templates")))
	e.pumpClock()
	e.readyTemplateFor("t2.micro")
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	e.eventually("the identity", func() bool { return len(e.driver.Written(id, identityChannel)) == 1 })
	e.driver.SetChannelConnected(id, identityChannel, false) // the guest read it and closed the port
	if _, err := e.svc.Reboot(context.Background(), []string{id}); err != nil {
		t.Fatal(err)
	}
	e.driver.SetChannelConnected(id, identityChannel, true) // booted again, asks again
	e.eventually("a second identity", func() bool { return len(e.driver.Written(id, identityChannel)) == 2 })
}

func TestFailedRestoreBootsAndDiscardsTemplate(t *testing.T) {
	e := newEnv(t, withTemplates(filepath.Join(t.TempDir(), "templates")))
	e.pumpClock()
	path := e.readyTemplateFor("t2.micro")
	e.driver.FailNext("restore", errors.New("incompatible save image"))
	id := e.run(1)[0].ID
	e.waitState(id, Running)
	if _, ok := e.driver.RestoredFrom(id); ok {
		t.Fatal("restored despite the failure")
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatalf("the failed template was kept: %v", err)
	}
}

func TestTemplateForGuestThatNeverAsksIsGivenUp(t *testing.T) {
	e := newEnv(t, withTemplates(filepath.Join(t.TempDir(), "templates")))
	e.pumpClock()
	if err := e.svc.Warm(context.Background(), e.imageID, "t2.micro"); err != nil {
		t.Fatal(err)
	}
	e.eventually("the build to be given up", func() bool {
		e.svc.mu.Lock()
		defer e.svc.mu.Unlock()
		return len(e.svc.failedTemplates) == 1 && len(e.svc.building) == 0
	})
	domains, _ := e.driver.List(context.Background())
	for _, d := range domains {
		if strings.HasPrefix(d.Name, templatePrefix) {
			t.Fatalf("template domain %s left behind", d.Name)
		}
	}
	id := e.run(1)[0].ID
	e.waitState(id, Running) // boots instead
}
