package tiny

import (
	"archive/tar"
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"
)

// The guest's network in the test's own namespace. Nothing is ever sent
// to these addresses from the host's namespace.
const (
	testID   = "i-0123456789abcdef0"
	testIP   = "10.77.0.5"
	testGW   = "10.77.0.1"
	testMAC  = "52:54:00:4b:75:6d"
	testCIDR = testIP + "/24"
)

// testUserData counts boots on /data: the second start proves that the
// first one's write survived the power-off. On the second boot it also
// reboots the guest from inside, as a user typing reboot would, and the
// third boot proves that this went through the same clean shutdown.
const testUserData = `#!/bin/sh
n=$(cat /data/boots 2>/dev/null || echo 0)
n=$((n+1))
echo $n >/data/boots
sync
echo "kumo-test: user-data boot $n on $(hostname)"
if [ "$n" = 2 ]; then
	echo "kumo-test: rebooting"
	reboot
fi
`

func TestBootServesHTTPAndPowersOffCleanly(t *testing.T) {
	for _, tool := range []string{"qemu-system-x86_64", "qemu-img", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s is needed to boot the image: %v", tool, err)
		}
	}
	art := testImage(t)
	dir := t.TempDir()
	overlay := filepath.Join(dir, "root.qcow2")
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", "qcow2", "-b", art.Disk, "-F", "qcow2", overlay).CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create: %v: %s", err, out)
	}
	seed := filepath.Join(dir, "seed.tar")
	writeSeed(t, seed, map[string]string{"instance-id": testID + "\n", "user-data": testUserData})
	ns := newNetns(t)
	url := "http://" + testIP + "/"
	userData := func(boot int) *regexp.Regexp {
		return regexp.MustCompile(fmt.Sprintf(`kumo-test: user-data boot %d on %s`, boot, testID))
	}

	// Start 1: a fresh instance.
	vm := startVM(t, ns, art, overlay, seed, filepath.Join(dir, "console-1.log"))
	vm.checkBoot(t, "start 1", url)
	vm.waitConsole(t, userData(1), time.Minute)
	vm.powerOff(t, "start 1")

	// Start 2 (a stop/start): /data kept the count; the guest reboots
	// itself and comes back.
	vm = startVM(t, ns, art, overlay, seed, filepath.Join(dir, "console-2.log"))
	vm.checkBoot(t, "start 2", url)
	vm.waitConsole(t, userData(2), time.Minute)
	vm.waitConsole(t, userData(3), 2*time.Minute)
	if _, err := httpGetIn(ns, url); err != nil {
		t.Fatalf("no HTTP after the reboot: %v\n%s", err, vm.tail())
	}
	con := vm.console()
	if strings.Count(con, "kumo-tiny: stopped") != 1 || strings.Count(con, "kumo-tiny: ready") != 2 {
		t.Errorf("reboot did not go through one clean stop and a second boot\n%s", vm.tail())
	}
	vm.powerOff(t, "start 2")
}

// checkBoot waits for the guest to answer HTTP and to say it is ready.
func (v *vm) checkBoot(t *testing.T, what, url string) {
	t.Helper()
	body, took := v.waitHTTP(t, url, 2*time.Minute)
	t.Logf("%s: HTTP 200 %s after QEMU start (body %q)", what, took.Round(time.Millisecond), body)
	if !strings.Contains(body, testID) {
		t.Fatalf("body %q does not name %s", body, testID)
	}
	ready := v.waitConsole(t, regexp.MustCompile(`kumo-tiny: ready `+testID+` `+testIP+` \S+`), time.Minute)
	httpUp := regexp.MustCompile(`kumo-tiny: http up \S+`).FindString(v.console())
	t.Logf("%s: guest says %q, %q", what, httpUp, ready)
}

// powerOff presses the ACPI power button and expects the guest to shut
// down cleanly and QEMU to exit on its own.
func (v *vm) powerOff(t *testing.T, what string) {
	t.Helper()
	start := time.Now()
	v.qmp(t, "system_powerdown")
	select {
	case err := <-v.exited:
		if err != nil {
			t.Fatalf("%s: QEMU exited with %v after power-off", what, err)
		}
	case <-time.After(90 * time.Second):
		t.Fatalf("%s: guest did not power off within 90s of the ACPI power button\n%s", what, v.tail())
	}
	t.Logf("%s: powered off %s after the power button", what, time.Since(start).Round(time.Millisecond))
	con := v.console()
	for _, want := range []string{"power button pressed", "kumo-tiny: stopping", "kumo-tiny: stopped"} {
		if !strings.Contains(con, want) {
			t.Errorf("%s: console lacks %q\n%s", what, want, v.tail())
		}
	}
	for _, bad := range []string{"Kernel panic", "Call Trace", "EXT4-fs error", "insmod", "cannot", "WARNING"} {
		if strings.Contains(con, bad) {
			t.Errorf("%s: console has %q\n%s", what, bad, v.tail())
		}
	}
}

func writeSeed(t *testing.T, path string, files map[string]string) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"instance-id", "user-data"} {
		body := files[name]
		if err := tw.WriteHeader(&tar.Header{Name: name, Mode: 0o600, Size: int64(len(body)), Format: tar.FormatUSTAR}); err != nil {
			t.Fatal(err)
		}
		tw.Write([]byte(body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// newNetns makes a network namespace with a bridge at the gateway address
// and a tap for QEMU on it, and removes it when the test ends.
func newNetns(t *testing.T) string {
	b := make([]byte, 4)
	rand.Read(b)
	ns := "kumo-tiny-test-" + hex.EncodeToString(b)
	ipcmd := func(args ...string) {
		t.Helper()
		if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
			t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, out)
		}
	}
	ipcmd("netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	ipcmd("-n", ns, "link", "set", "lo", "up")
	ipcmd("-n", ns, "link", "add", "br0", "type", "bridge")
	ipcmd("-n", ns, "addr", "add", testGW+"/24", "dev", "br0")
	ipcmd("-n", ns, "tuntap", "add", "tap0", "mode", "tap")
	ipcmd("-n", ns, "link", "set", "tap0", "master", "br0")
	ipcmd("-n", ns, "link", "set", "tap0", "up")
	ipcmd("-n", ns, "link", "set", "br0", "up")
	return ns
}

type vm struct {
	cmd     *exec.Cmd
	start   time.Time
	exited  chan error
	logPath string
	qmpPath string
	ns      string
}

func startVM(t *testing.T, ns string, art Artifacts, overlay, seed, consoleLog string) *vm {
	v := &vm{ns: ns, logPath: consoleLog, qmpPath: filepath.Join(filepath.Dir(consoleLog), "qmp.sock"), exited: make(chan error, 1)}
	os.Remove(v.qmpPath)
	cmdline := fmt.Sprintf("%s kumo.id=%s kumo.ip=%s kumo.gw=%s kumo.mac=%s kumo.future=ignored", Cmdline, testID, testCIDR, testGW, testMAC)
	// Devices as hypervisor/libvirt defines them: pc machine, virtio
	// disks (root, then the read-only seed), a virtio NIC without option
	// ROM, a virtio RNG and no defaults.
	args := []string{"netns", "exec", ns, "qemu-system-x86_64",
		"-machine", "pc,accel=tcg", "-m", "512", "-smp", "1",
		"-no-user-config", "-nodefaults", "-display", "none",
		"-serial", "file:" + consoleLog,
		"-qmp", "unix:" + v.qmpPath + ",server=on,wait=off",
		"-kernel", art.Kernel, "-initrd", art.Initrd, "-append", cmdline,
		"-drive", "file=" + overlay + ",format=qcow2,if=virtio",
		"-drive", "file=" + seed + ",format=raw,if=virtio,readonly=on",
		"-netdev", "tap,id=n0,ifname=tap0,script=no,downscript=no",
		"-device", "virtio-net-pci,netdev=n0,mac=" + testMAC + ",romfile=",
		"-object", "rng-random,id=rng0,filename=/dev/urandom",
		"-device", "virtio-rng-pci,rng=rng0",
	}
	v.cmd = exec.Command("ip", args...)
	var stderr bytes.Buffer
	v.cmd.Stderr = &stderr
	v.start = time.Now()
	if err := v.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := v.cmd.Wait()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, bytes.TrimSpace(stderr.Bytes()))
		}
		v.exited <- err
	}()
	t.Cleanup(func() {
		// ip netns exec execs QEMU in place, so this is QEMU's pid.
		v.cmd.Process.Kill()
		if t.Failed() {
			t.Logf("console %s:\n%s", consoleLog, v.tail())
		}
	})
	return v
}

func (v *vm) console() string {
	b, _ := os.ReadFile(v.logPath)
	return string(b)
}

func (v *vm) tail() string {
	s := v.console()
	if len(s) > 6000 {
		s = "...\n" + s[len(s)-6000:]
	}
	return s
}

func (v *vm) waitConsole(t *testing.T, re *regexp.Regexp, timeout time.Duration) string {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for time.Now().Before(deadline) {
		if m := re.FindString(v.console()); m != "" {
			return m
		}
		select {
		case err := <-v.exited:
			v.exited <- err
			t.Fatalf("QEMU exited (%v) before the console showed %s\n%s", err, re, v.tail())
		case <-time.After(50 * time.Millisecond):
		}
	}
	t.Fatalf("console did not show %s within %s\n%s", re, timeout, v.tail())
	return ""
}

// waitHTTP polls the guest from inside the test's namespace until it
// answers 200, and returns the body and the time since QEMU started.
func (v *vm) waitHTTP(t *testing.T, url string, timeout time.Duration) (string, time.Duration) {
	t.Helper()
	var body string
	var took time.Duration
	err := inNetns(v.ns, func() error {
		deadline := time.Now().Add(timeout)
		var last error
		for time.Now().Before(deadline) {
			select {
			case err := <-v.exited:
				v.exited <- err
				return fmt.Errorf("QEMU exited (%v) before the guest answered HTTP", err)
			default:
			}
			b, err := httpGet(url)
			if err == nil {
				body, took = b, time.Since(v.start)
				return nil
			}
			last = err
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("no HTTP 200 from %s within %s: %v", url, timeout, last)
	})
	if err != nil {
		t.Fatalf("%v\n%s", err, v.tail())
	}
	return body, took
}

// httpGetIn is httpGet from inside the namespace ns.
func httpGetIn(ns, url string) (string, error) {
	var body string
	err := inNetns(ns, func() error {
		var err error
		body, err = httpGet(url)
		return err
	})
	return body, err
}

// httpGet is a one-shot HTTP/1.0 GET on a fresh connection, made on the
// calling goroutine so that the socket is created in its namespace (an
// http.Client dials from goroutines of its own).
func httpGet(url string) (string, error) {
	host := strings.TrimPrefix(url, "http://")
	host, path, _ := strings.Cut(host, "/")
	c, err := net.DialTimeout("tcp", host+":80", 250*time.Millisecond)
	if err != nil {
		return "", err
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	fmt.Fprintf(c, "GET /%s HTTP/1.0\r\nHost: %s\r\n\r\n", path, host)
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return "", err
	}
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	return string(b), nil
}

// sysSetns is setns(2) on linux/amd64, which syscall has no name for.
// The image and its build are amd64-only anyway.
const sysSetns = 308

// inNetns runs f on an OS thread moved into the named namespace. The
// thread is never unlocked, so Go discards it when f returns instead of
// reusing it for code that expects the host's namespace. It refuses to run
// f unless the move is confirmed: the guest's private address must never
// be reached from the host's namespace.
func inNetns(name string, f func() error) error {
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		nsPath := filepath.Join("/var/run/netns", name)
		fd, err := syscall.Open(nsPath, syscall.O_RDONLY|syscall.O_CLOEXEC, 0)
		if err != nil {
			errc <- fmt.Errorf("open %s: %w", nsPath, err)
			return
		}
		defer syscall.Close(fd)
		if _, _, e := syscall.RawSyscall(sysSetns, uintptr(fd), syscall.CLONE_NEWNET, 0); e != 0 {
			errc <- fmt.Errorf("setns %s: %w", name, e)
			return
		}
		var want syscall.Stat_t
		if err := syscall.Fstat(fd, &want); err != nil {
			errc <- err
			return
		}
		have, err := os.Readlink(fmt.Sprintf("/proc/self/task/%d/ns/net", syscall.Gettid()))
		if err != nil || have != fmt.Sprintf("net:[%d]", want.Ino) {
			errc <- fmt.Errorf("thread is in %q (%v), not in namespace %s (inode %d)", have, err, name, want.Ino)
			return
		}
		errc <- f()
	}()
	return <-errc
}

// qmp sends one command on QEMU's monitor socket.
func (v *vm) qmp(t *testing.T, command string) {
	t.Helper()
	c, err := net.DialTimeout("unix", v.qmpPath, 5*time.Second)
	if err != nil {
		t.Fatalf("qmp: %v", err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	dec := json.NewDecoder(c)
	var greeting map[string]any
	if err := dec.Decode(&greeting); err != nil {
		t.Fatalf("qmp greeting: %v", err)
	}
	for _, cmd := range []string{"qmp_capabilities", command} {
		fmt.Fprintf(c, `{"execute":%q}`+"\n", cmd)
		for {
			var msg map[string]any
			if err := dec.Decode(&msg); err != nil {
				t.Fatalf("qmp %s: %v", cmd, err)
			}
			if e, ok := msg["error"]; ok {
				t.Fatalf("qmp %s: %v", cmd, e)
			}
			if _, ok := msg["return"]; ok {
				break
			}
		}
	}
}
