package devcluster

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"kumo/internal/netns"
)

// daemon is one of a host's libvirt daemons.
type daemon struct {
	name     string // the program: virtlogd or libvirtd
	conf     string // its config, which also tells its processes apart from any other's
	pidFile  string
	settings string
}

// daemons lists a host's daemons in the order they start: libvirtd hands
// every guest's console log to virtlogd.
func (h host) daemons() []daemon { return []daemon{h.virtlogd(), h.libvirtd()} }

func (h host) virtlogd() daemon {
	return daemon{
		name:     "virtlogd",
		conf:     filepath.Join(h.state, "virtlogd.conf"),
		pidFile:  filepath.Join(h.run, "virtlogd.pid"),
		settings: "log_outputs = \"3:file:/var/log/libvirt/virtlogd.log\"\n",
	}
}

func (h host) libvirtd() daemon {
	return daemon{
		name:    "libvirtd",
		conf:    filepath.Join(h.state, "libvirtd.conf"),
		pidFile: filepath.Join(h.run, "libvirtd.pid"),
		// As /etc/kumo/libvirtd.conf: kumod launches many instances at
		// once over one connection, and libvirtd serves 5 calls at once
		// per client by default.
		settings: "max_workers = 64\nmax_client_requests = 64\n" +
			"log_outputs = \"3:file:/var/log/libvirt/libvirtd.log\"\n",
	}
}

func (d daemon) config() string {
	return "# Written by kumo dev cluster. Paths are as the daemon sees them, in\n" +
		"# the mount namespace of its simulated host.\n" + d.settings
}

// bindScript mounts each SOURCE TARGET pair of its arguments up to "--",
// then becomes the command after it. It runs in a fresh mount namespace,
// so the mounts are seen by the daemon and its children only.
const bindScript = `set -e
while [ "$1" != -- ]; do mkdir -p "$2"; mount --bind "$1" "$2"; shift 2; done
shift
exec "$@"`

// ensureDaemon starts d in the host's namespaces unless it runs already.
// Each start gets a mount namespace of its own; both daemons of a host see
// the same directories in them, so a restarted libvirtd still finds
// virtlogd's socket and its running guests.
func (c *Cluster) ensureDaemon(ctx context.Context, h host, d daemon) error {
	if pid, ok := d.running(); ok {
		if !inNetns(pid, h.netns) {
			return fmt.Errorf("dev cluster: %s of %s (pid %d) runs outside namespace %s: run down first", d.name, h.name(), pid, h.netns)
		}
		c.say(h, "%s running (pid %d)", d.name, pid)
		return nil
	}
	args := []string{"netns", "exec", h.netns, "unshare", "--mount", "--propagation", "private", "sh", "-c", bindScript, "sh"}
	for _, b := range h.binds() {
		args = append(args, b.source, b.target)
	}
	args = append(args, "--", d.name, "-d", "-f", d.conf, "-p", d.pidFile)
	if _, err := output(exec.CommandContext(ctx, "ip", args...)); err != nil {
		return fmt.Errorf("dev cluster: start %s of %s: %w", d.name, h.name(), err)
	}
	// --daemon returns once the daemon has written its pid file.
	pid, ok := d.running()
	if !ok {
		return fmt.Errorf("dev cluster: start %s of %s: it exited; see %s", d.name, h.name(), filepath.Join(h.state, "log-libvirt"))
	}
	c.say(h, "started %s (pid %d)", d.name, pid)
	return nil
}

func (c *Cluster) stopDaemon(ctx context.Context, h host, d daemon) error {
	pid, ok := d.running()
	if !ok {
		return nil
	}
	if err := stop(ctx, pid); err != nil {
		return fmt.Errorf("dev cluster: stop %s of %s: %w", d.name, h.name(), err)
	}
	c.say(h, "stopped %s (pid %d)", d.name, pid)
	return nil
}

// running returns the daemon's pid when the process its pid file names is
// alive and was started with its config: a pid the kernel has given to
// another process since does not count.
func (d daemon) running() (int, bool) {
	b, err := os.ReadFile(d.pidFile)
	if err != nil {
		return 0, false
	}
	pid, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil || !alive(pid) {
		return 0, false
	}
	cmdline, err := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", pid))
	if err != nil {
		return 0, false
	}
	return pid, slices.Contains(strings.Split(string(cmdline), "\x00"), d.conf)
}

// alive tells whether pid is a process that has not exited. An exited
// daemon stays a zombie until init, its parent since it forked into the
// background, gets round to reaping it.
func alive(pid int) bool {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// The state follows the command name, which is in parentheses and
	// may hold any byte.
	i := bytes.LastIndexByte(b, ')')
	return i >= 0 && i+2 < len(b) && b[i+2] != 'Z'
}

func inNetns(pid int, ns string) bool {
	a, err := os.Stat(fmt.Sprintf("/proc/%d/ns/net", pid))
	if err != nil {
		return false
	}
	b, err := os.Stat(netns.Path(ns))
	return err == nil && os.SameFile(a, b)
}

// stop sends pids SIGTERM, and SIGKILL to those still alive after a grace
// period.
func stop(ctx context.Context, pids ...int) error {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		for _, pid := range pids {
			if err := syscall.Kill(pid, sig); err != nil && !errors.Is(err, syscall.ESRCH) {
				return fmt.Errorf("kill %d: %w", pid, err)
			}
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			pids = slices.DeleteFunc(pids, func(pid int) bool { return !alive(pid) })
			if len(pids) == 0 {
				return nil
			}
			if time.Now().After(deadline) {
				break
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(50 * time.Millisecond):
			}
		}
	}
	return fmt.Errorf("processes %v outlived SIGKILL", pids)
}
