package devcluster

import (
	"bufio"
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
	"testing"
	"time"

	lv "libvirt.org/go/libvirt"
)

// TestCluster brings up two hosts and checks what kumod relies on: each
// answers at its URI, has network kumo on a bridge and subnet of its own,
// keeps its domains to itself and lets QEMU read disks under /var/lib/kumo;
// then that Up only repairs, and that Down leaves nothing behind.
func TestCluster(t *testing.T) {
	c, root := newTestCluster(t)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()

	hosts, err := c.Up(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	for i, h := range hosts {
		n := i + 1
		want := Host{
			Name:   fmt.Sprintf("h%d", n),
			URI:    fmt.Sprintf("qemu+unix:///system?socket=%s/run/h%d/run-libvirt/libvirt-sock", root, n),
			Netns:  fmt.Sprintf("%s%d", c.opts.Prefix, n),
			Bridge: fmt.Sprintf("kumobr%d", n),
			Subnet: fmt.Sprintf("10.77.%d.0/24", n),
		}
		if h != want {
			t.Fatalf("host %d = %+v, want %+v", n, h, want)
		}
	}
	conns := make([]*lv.Connect, len(hosts))
	for i, h := range hosts {
		conn, err := lv.NewConnect(h.URI)
		if err != nil {
			t.Fatalf("%s: connect %s: %v", h.Name, h.URI, err)
		}
		t.Cleanup(func() { conn.Close() })
		conns[i] = conn
	}

	t.Run("LibvirtdAnswers", func(t *testing.T) {
		for i, h := range hosts {
			if out, err := exec.Command("virsh", "-c", h.URI, "version").CombinedOutput(); err != nil {
				t.Errorf("%s: virsh version: %v\n%s", h.Name, err, out)
			}
			if _, err := conns[i].GetLibVersion(); err != nil {
				t.Errorf("%s: GetLibVersion: %v", h.Name, err)
			}
		}
	})

	t.Run("NetworkPerHost", func(t *testing.T) {
		for i, h := range hosts {
			checkNetwork(t, conns[i], h)
		}
	})

	t.Run("UplinkReachesEachHost", func(t *testing.T) {
		for i, h := range hosts {
			gateway := c.host(i + 1).gateway()
			if out, err := exec.Command("ip", "netns", "exec", c.opts.Uplink, "busybox", "ping", "-c", "1", "-W", "2", gateway).CombinedOutput(); err != nil {
				t.Errorf("%s: the uplink does not reach %s: %v\n%s", h.Name, gateway, err, out)
			}
		}
	})

	t.Run("MountsArePrivate", func(t *testing.T) {
		self, err := os.ReadFile("/proc/self/mountinfo")
		if err != nil {
			t.Fatal(err)
		}
		if bytes.Contains(self, []byte(filepath.Base(root))) {
			t.Errorf("the root namespace sees the hosts' mounts:\n%s", self)
		}
		for i := range hosts {
			pid, ok := c.host(i + 1).libvirtd().running()
			if !ok {
				t.Fatalf("%s: libvirtd not running", hosts[i].Name)
			}
			points := mountPoints(t, pid)
			for _, target := range []string{"/run/libvirt", "/etc/libvirt", "/var/lib/libvirt", "/var/cache/libvirt", "/var/log/libvirt"} {
				if !slices.Contains(points, target) {
					t.Errorf("%s: libvirtd has no mount on %s: %v", hosts[i].Name, target, points)
				}
			}
			for _, p := range points {
				if p == "/var/lib/kumo" || strings.HasPrefix(p, "/var/lib/kumo/") {
					t.Errorf("%s: libvirtd has a mount on %s, over kumo's disks", hosts[i].Name, p)
				}
			}
		}
	})

	t.Run("DomainsStayOnTheirHost", func(t *testing.T) {
		name := "kumo-devcluster-probe"
		dom, err := conns[0].DomainDefineXML(domainXML(name, ""))
		if err != nil {
			t.Fatalf("define on h1: %v", err)
		}
		dom.Free()
		if _, err := os.Stat(filepath.Join(c.host(1).state, "etc-libvirt", "qemu", name+".xml")); err != nil {
			t.Errorf("definition not in h1's /etc/libvirt: %v", err)
		}
		if _, err := os.Stat(filepath.Join("/etc/libvirt/qemu", name+".xml")); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("definition reached the machine's /etc/libvirt: %v", err)
		}
		if got := domainNames(t, conns[0]); !slices.Contains(got, name) {
			t.Errorf("h1 domains = %v, want %s among them", got, name)
		}
		if got := domainNames(t, conns[1]); slices.Contains(got, name) {
			t.Errorf("h2 sees h1's domain: %v", got)
		}
	})

	// The guest stays up for Down to destroy.
	guest := "kumo-devcluster-guest"
	t.Run("GuestReadsDisksUnderVarLibKumo", func(t *testing.T) {
		dom, err := conns[1].DomainCreateXML(domainXML(guest, kumoDisk(t)), 0)
		if err != nil {
			t.Fatalf("start on h2: %v", err)
		}
		dom.Free()
		out, err := exec.Command("ip", "-n", hosts[1].Netns, "-o", "link", "show", "master", hosts[1].Bridge).CombinedOutput()
		if err != nil || !strings.Contains(string(out), "vnet") {
			t.Errorf("no tap on %s in %s: %v\n%s", hosts[1].Bridge, hosts[1].Netns, err, out)
		}
	})

	t.Run("SecondUpIsNoop", func(t *testing.T) {
		before := daemonPIDs(t, c, 2)
		var progress bytes.Buffer
		again, err := New(c.opts, &progress).Up(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(again, hosts) {
			t.Errorf("second Up = %v, want %v", again, hosts)
		}
		if after := daemonPIDs(t, c, 2); !slices.Equal(after, before) {
			t.Errorf("daemons = %v after a second Up, want %v", after, before)
		}
		for _, verb := range []string{"created", "started", "net-"} {
			if strings.Contains(progress.String(), verb) {
				t.Errorf("second Up changed something:\n%s", progress.String())
			}
		}
	})

	t.Run("UpRestartsDeadLibvirtd", func(t *testing.T) {
		h2 := c.host(2)
		old, ok := h2.libvirtd().running()
		if !ok {
			t.Fatal("h2's libvirtd not running")
		}
		if err := stop(ctx, old); err != nil {
			t.Fatal(err)
		}
		if _, err := c.Up(ctx, 2); err != nil {
			t.Fatal(err)
		}
		pid, ok := h2.libvirtd().running()
		if !ok || pid == old {
			t.Fatalf("h2's libvirtd: pid %d running %v, was %d", pid, ok, old)
		}
		conn, err := lv.NewConnect(hosts[1].URI)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		dom, err := conn.LookupDomainByName(guest)
		if err != nil {
			t.Fatalf("the new libvirtd lost the running guest: %v", err)
		}
		defer dom.Free()
		if active, err := dom.IsActive(); err != nil || !active {
			t.Errorf("guest active %v, %v after libvirtd restart", active, err)
		}
	})

	t.Run("List", func(t *testing.T) {
		got, err := c.List()
		if err != nil || !slices.Equal(got, hosts) {
			t.Errorf("List = %v, %v; want %v", got, err, hosts)
		}
	})

	pids := daemonPIDs(t, c, 2)
	qemu, err := os.ReadFile(filepath.Join(c.host(2).runLibvirt(), "qemu", guest+".pid"))
	if err != nil {
		t.Fatalf("guest's pid file: %v", err)
	}
	guestPID, _ := strconv.Atoi(strings.TrimSpace(string(qemu)))
	pids = append(pids, guestPID)
	if err := c.Down(ctx); err != nil {
		t.Fatal(err)
	}
	checkNothingLeft(t, c, root, pids)
	if out, err := exec.Command("ip", "-n", c.opts.Uplink, "-o", "link").CombinedOutput(); err != nil || strings.Contains(string(out), c.opts.Prefix) {
		t.Errorf("the uplink keeps the hosts' links: %v\n%s", err, out)
	}
	if err := c.Down(ctx); err != nil {
		t.Errorf("second Down: %v", err)
	}
}

func TestDownWithoutCluster(t *testing.T) {
	c, root := newTestCluster(t)
	if err := c.Down(context.Background()); err != nil {
		t.Fatal(err)
	}
	checkNothingLeft(t, c, root, nil)
}

func TestUpRejectsHostCount(t *testing.T) {
	c, _ := newTestCluster(t)
	for _, n := range []int{0, maxHosts + 1} {
		if _, err := c.Up(context.Background(), n); err == nil {
			t.Errorf("Up(%d) succeeded", n)
		}
	}
}

// newTestCluster returns a cluster whose namespaces and directories are
// the test's own, so it never meets a developer's `kumo dev cluster`, and
// which is taken down whatever the test's outcome. Its root's name holds
// "dev-cluster", which scripts/setup-host.sh recognises in the daemons'
// config paths.
func newTestCluster(t *testing.T) (*Cluster, string) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Fatal("devcluster tests need root: they create network namespaces, mount namespaces and libvirt daemons")
	}
	for _, prog := range []string{"ip", "busybox", "unshare", "mount", "virtlogd", "libvirtd", "virsh", "qemu-system-x86_64", "dnsmasq"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Fatalf("devcluster tests need %s: run scripts/setup-host.sh, which installs libvirt and QEMU: %v", prog, err)
		}
	}
	root, err := os.MkdirTemp("", "kumo-dev-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	// The hosts' uplink goes to a namespace of the test's own, standing
	// for kumo's data plane.
	uplink := fmt.Sprintf("kumo-u%d", os.Getpid())
	if out, err := exec.Command("ip", "netns", "add", uplink).CombinedOutput(); err != nil {
		t.Fatalf("create namespace %s: %v\n%s", uplink, err, out)
	}
	c := New(Options{
		Prefix:    fmt.Sprintf("kumo-t%d-", os.Getpid()),
		RunRoot:   filepath.Join(root, "run"),
		StateRoot: filepath.Join(root, "state"),
		Uplink:    uplink,
	}, testLog{t})
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
		defer cancel()
		if err := c.Down(ctx); err != nil {
			t.Errorf("cleanup: %v", err)
		}
		os.RemoveAll(root)
		exec.Command("ip", "netns", "delete", uplink).Run()
	})
	return c, root
}

type testLog struct{ t *testing.T }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func checkNetwork(t *testing.T, conn *lv.Connect, h Host) {
	t.Helper()
	net, err := conn.LookupNetworkByName("kumo")
	if err != nil {
		t.Fatalf("%s: network kumo: %v", h.Name, err)
	}
	defer net.Free()
	active, _ := net.IsActive()
	autostart, _ := net.GetAutostart()
	bridge, _ := net.GetBridgeName()
	if !active || !autostart || bridge != h.Bridge {
		t.Errorf("%s: network kumo active %v, autostart %v, bridge %q; want active, autostart, %s", h.Name, active, autostart, bridge, h.Bridge)
	}
	gateway := strings.TrimSuffix(h.Subnet, "0/24") + "1/24"
	out, err := exec.Command("ip", "-n", h.Netns, "-o", "addr", "show", "dev", h.Bridge).CombinedOutput()
	if err != nil || !strings.Contains(string(out), "inet "+gateway) {
		t.Errorf("%s: %s in %s has no %s: %v\n%s", h.Name, h.Bridge, h.Netns, gateway, err, out)
	}
	if out, err := exec.Command("ip", "link", "show", h.Bridge).CombinedOutput(); err == nil {
		t.Errorf("%s: %s is in the root namespace:\n%s", h.Name, h.Bridge, out)
	}
}

// domainXML is the smallest guest: 64 MiB, TCG, a NIC on network kumo and,
// if given, a raw disk.
func domainXML(name, disk string) string {
	var diskXML string
	if disk != "" {
		diskXML = fmt.Sprintf(`<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='%s'/><target dev='vda' bus='virtio'/></disk>`, disk)
	}
	return fmt.Sprintf(`<domain type='qemu'>
  <name>%s</name>
  <memory unit='MiB'>64</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64'>hvm</type></os>
  <devices>%s<interface type='network'><source network='kumo'/><model type='virtio'/></interface></devices>
</domain>`, name, diskXML)
}

// kumoDisk makes an empty raw disk where kumo keeps its own.
func kumoDisk(t *testing.T) string {
	t.Helper()
	if err := os.MkdirAll("/var/lib/kumo", 0o755); err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("/var/lib/kumo", "dev-cluster-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	// QEMU runs as libvirt-qemu, which must get through the directory.
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	disk := filepath.Join(dir, "disk.raw")
	if err := os.WriteFile(disk, make([]byte, 1<<20), 0o644); err != nil {
		t.Fatal(err)
	}
	return disk
}

func domainNames(t *testing.T, conn *lv.Connect) []string {
	t.Helper()
	doms, err := conn.ListAllDomains(0)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range doms {
		name, _ := d.GetName()
		names = append(names, name)
		d.Free()
	}
	return names
}

func daemonPIDs(t *testing.T, c *Cluster, n int) []int {
	t.Helper()
	var pids []int
	for i := 1; i <= n; i++ {
		for _, d := range c.host(i).daemons() {
			pid, ok := d.running()
			if !ok {
				t.Fatalf("h%d: %s not running", i, d.name)
			}
			pids = append(pids, pid)
		}
	}
	return pids
}

// mountPoints lists where mounts are in pid's mount namespace.
func mountPoints(t *testing.T, pid int) []string {
	t.Helper()
	f, err := os.Open(fmt.Sprintf("/proc/%d/mountinfo", pid))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var points []string
	for s := bufio.NewScanner(f); s.Scan(); {
		if fields := strings.Fields(s.Text()); len(fields) > 4 {
			points = append(points, fields[4])
		}
	}
	return points
}

// checkNothingLeft fails the test if the cluster left a namespace, one of
// pids, a process or mount naming its root, or its directories.
func checkNothingLeft(t *testing.T, c *Cluster, root string, pids []int) {
	t.Helper()
	nss, err := namespaces()
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range nss {
		if strings.HasPrefix(ns, c.opts.Prefix) {
			t.Errorf("namespace %s left", ns)
		}
	}
	for _, pid := range pids {
		if alive(pid) {
			t.Errorf("process %d left", pid)
		}
	}
	procs, _ := filepath.Glob("/proc/[0-9]*")
	for _, p := range procs {
		if cmdline, _ := os.ReadFile(p + "/cmdline"); bytes.Contains(cmdline, []byte(root)) {
			t.Errorf("process %s left: %s", filepath.Base(p), bytes.ReplaceAll(cmdline, []byte{0}, []byte{' '}))
		}
		// A mount's source shows relative to its filesystem, which may be /tmp.
		if mounts, _ := os.ReadFile(p + "/mountinfo"); bytes.Contains(mounts, []byte(filepath.Base(root))) {
			t.Errorf("process %s still has a mount of %s", filepath.Base(p), root)
		}
	}
	for _, dir := range []string{c.opts.RunRoot, c.opts.StateRoot} {
		if _, err := os.Stat(dir); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left: %v", dir, err)
		}
	}
}
