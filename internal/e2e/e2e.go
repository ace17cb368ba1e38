// Package e2e runs a whole kumo for tests and benchmarks: it builds kumod and
// the kumo CLI, starts kumod against the local libvirtd (real QEMU) with its
// own data dir and its own libvirt network, and reaches guests from inside
// the namespace the data plane lives in, never from the root namespace.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"kumo/internal/netns"
)

// Namespace is where the local host's libvirtd, and so every guest, lives.
const Namespace = "kumo"

// LibvirtURI is the local host's hypervisor.
const LibvirtURI = "qemu:///system"

var (
	buildOnce sync.Once
	binDir    string
	buildErr  error
)

// binaries builds kumod and kumo once per test process.
func binaries(tb testing.TB) (kumod, kumo string) {
	tb.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "kumo-e2e-bin-")
		if buildErr != nil {
			return
		}
		root := moduleRoot()
		for _, name := range []string{"kumod", "kumo"} {
			cmd := exec.Command("go", "build", "-o", filepath.Join(binDir, name), "./cmd/"+name)
			cmd.Dir = root
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("go build %s: %v\n%s", name, err, out)
				return
			}
		}
	})
	if buildErr != nil {
		tb.Fatal(buildErr)
	}
	return filepath.Join(binDir, "kumod"), filepath.Join(binDir, "kumo")
}

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Join(filepath.Dir(file), "..", "..")
}

// ImageCache is where the default image is built, shared by every test run
// so that only the first one pays for the build.
func ImageCache() string {
	if d := os.Getenv("KUMO_IMAGE_CACHE"); d != "" {
		return d
	}
	d, err := os.UserCacheDir()
	if err != nil {
		d = os.TempDir()
	}
	return filepath.Join(d, "kumo-test", "tiny")
}

// Network is a libvirt network a test cloud attaches its instances to.
type Network struct {
	Name, Bridge, Gateway string
}

// TestNetwork is separate from the network `make run` uses, so a test never
// hands out an address a running kumo already gave to one of its guests.
var TestNetwork = Network{Name: "kumo-test", Bridge: "kumotest0", Gateway: "10.78.0.1"}

// EnsureNetwork defines and starts the network unless it is there.
func EnsureNetwork(tb testing.TB, n Network) {
	tb.Helper()
	if exec.Command("virsh", "-c", LibvirtURI, "net-info", n.Name).Run() != nil {
		xml := fmt.Sprintf("<network><name>%s</name><bridge name='%s' stp='off' delay='0'/><ip address='%s' netmask='255.255.255.0'/></network>",
			n.Name, n.Bridge, n.Gateway)
		f := filepath.Join(tb.TempDir(), "net.xml")
		os.WriteFile(f, []byte(xml), 0o644)
		if out, err := exec.Command("virsh", "-c", LibvirtURI, "net-define", f).CombinedOutput(); err != nil {
			tb.Fatalf("net-define: %v %s", err, out)
		}
	}
	out, _ := exec.Command("virsh", "-c", LibvirtURI, "net-info", n.Name).Output()
	if !strings.Contains(string(out), "Active:         yes") {
		if out, err := exec.Command("virsh", "-c", LibvirtURI, "net-start", n.Name).CombinedOutput(); err != nil {
			tb.Fatalf("net-start: %v %s", err, out)
		}
	}
}

// Cloud is one running kumod and the CLI pointed at it.
type Cloud struct {
	tb      testing.TB
	DataDir string
	Addr    string
	kumod   string
	cli     string
	cmd     *exec.Cmd
	exited  chan struct{}
	seen    map[string]bool // instance ids this cloud launched
	args    []string        // extra kumod flags
}

// Keys every test cloud's first start takes for its admin account, and
// the CLI signs with.
const (
	AdminKeyID  = "AKIAKUMOENDTOEND0001"
	AdminSecret = "end-to-end-secret-0123456789abcdef"
)

// Start runs kumod on a fresh data dir, with extra flags, and waits until
// it serves.
func Start(tb testing.TB, kumodArgs ...string) *Cloud {
	tb.Helper()
	kumod, cli := binaries(tb)
	EnsureNetwork(tb, TestNetwork)
	// Not t.TempDir: QEMU runs as its own user and must traverse the path
	// to the disks, and t.TempDir makes 0700 folders.
	dir, err := os.MkdirTemp("/var/tmp", "kumo-e2e-")
	if err != nil {
		tb.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	c := &Cloud{tb: tb, DataDir: dir, kumod: kumod, cli: cli, seen: map[string]bool{}, args: kumodArgs}
	c.Addr = freePort(tb)
	tb.Cleanup(c.cleanup)
	c.startKumod()
	return c
}

func freePort(tb testing.TB) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func (c *Cloud) startKumod() {
	c.tb.Helper()
	logf, err := os.OpenFile(filepath.Join(c.DataDir, "kumod.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		c.tb.Fatal(err)
	}
	args := []string{"--data-dir", c.DataDir, "--listen", c.Addr, "--libvirt-uri", LibvirtURI,
		"--network", TestNetwork.Name, "--image-cache", ImageCache(), "--stop-timeout", "20s"}
	c.cmd = exec.Command(c.kumod, append(args, c.args...)...)
	c.cmd.Env = append(os.Environ(), "KUMO_ADMIN_ACCESS_KEY_ID="+AdminKeyID, "KUMO_ADMIN_SECRET_ACCESS_KEY="+AdminSecret)
	c.cmd.Stdout, c.cmd.Stderr = logf, logf
	if err := c.cmd.Start(); err != nil {
		c.tb.Fatal(err)
	}
	logf.Close()
	c.exited = make(chan struct{})
	go func(cmd *exec.Cmd, done chan struct{}) { cmd.Wait(); close(done) }(c.cmd, c.exited)
	// The first start of a machine builds the default image.
	deadline := time.Now().Add(10 * time.Minute)
	for {
		resp, err := http.Get("http://" + c.Addr + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		select {
		case <-c.exited:
			c.tb.Fatalf("kumod exited during start:\n%s", c.Log())
		default:
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("kumod did not start:\n%s", c.Log())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// Log returns the end of kumod's log.
func (c *Cloud) Log() string {
	b, _ := os.ReadFile(filepath.Join(c.DataDir, "kumod.log"))
	if len(b) > 8000 {
		b = b[len(b)-8000:]
	}
	return string(b)
}

// Kill9 kills kumod the way a crash would: no chance to clean up.
func (c *Cloud) Kill9() {
	c.cmd.Process.Signal(syscall.SIGKILL)
	<-c.exited
}

// Restart starts kumod again on the same data dir.
func (c *Cloud) Restart() { c.startKumod() }

// stop ends kumod gracefully.
func (c *Cloud) stop() {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(20 * time.Second):
		c.Kill9()
	}
}

// cleanup stops kumod and removes whatever a failed test left behind:
// domains of instances it launched, and the data dir.
func (c *Cloud) cleanup() {
	if c.tb.Failed() {
		c.tb.Logf("kumod log:\n%s", c.Log())
	}
	c.stop()
	for id := range c.seen {
		exec.Command("virsh", "-c", LibvirtURI, "destroy", id).Run()
		exec.Command("virsh", "-c", LibvirtURI, "undefine", id).Run()
	}
	os.RemoveAll(c.DataDir)
}

// CLI runs the kumo command against this cloud and returns its output.
func (c *Cloud) CLI(args ...string) (string, error) {
	return c.CLIInput(nil, args...)
}

// CLIInput is CLI with stdin read from input.
func (c *Cloud) CLIInput(input io.Reader, args ...string) (string, error) {
	cmd := exec.Command(c.cli, args...)
	cmd.Stdin = input
	cmd.Env = append(os.Environ(), "KUMO_ENDPOINT=http://"+c.Addr,
		"AWS_ACCESS_KEY_ID="+AdminKeyID, "AWS_SECRET_ACCESS_KEY="+AdminSecret, "AWS_SHARED_CREDENTIALS_FILE=/dev/null")
	out, err := cmd.Output()
	if ee, ok := err.(*exec.ExitError); ok {
		return string(out), fmt.Errorf("kumo %s: %v: %s", strings.Join(args, " "), err, ee.Stderr)
	}
	return string(out), err
}

// MustCLI is CLI that fails the test on error.
func (c *Cloud) MustCLI(args ...string) string {
	c.tb.Helper()
	out, err := c.CLI(args...)
	if err != nil {
		c.tb.Fatal(err)
	}
	return out
}

// Instance is what the CLI's --json prints for an instance.
type Instance struct {
	ID    string `json:"id"`
	State struct {
		Name string `json:"name"`
	} `json:"state"`
	StateReason string `json:"state_reason"`
	PrivateIP   string `json:"private_ip"`
	ImageID     string `json:"image_id"`
	Host        string `json:"host"`
	// HostUnreachable says kumod cannot reach the instance's host.
	HostUnreachable bool `json:"host_unreachable"`
}

// Run launches instances through the CLI.
func (c *Cloud) Run(args ...string) []Instance {
	c.tb.Helper()
	var out struct {
		Instances []Instance `json:"instances"`
	}
	if err := json.Unmarshal([]byte(c.MustCLI(append([]string{"run", "--json"}, args...)...)), &out); err != nil {
		c.tb.Fatal(err)
	}
	for _, in := range out.Instances {
		c.seen[in.ID] = true
	}
	return out.Instances
}

// Describe returns one instance.
func (c *Cloud) Describe(id string) Instance {
	c.tb.Helper()
	var in Instance
	if err := json.Unmarshal([]byte(c.MustCLI("describe", "--json", id)), &in); err != nil {
		c.tb.Fatal(err)
	}
	return in
}

// WaitState polls until the instance is in state.
func (c *Cloud) WaitState(id, state string, timeout time.Duration) Instance {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		in := c.Describe(id)
		if in.State.Name == state {
			return in
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("instance %s is %s (%s), want %s", id, in.State.Name, in.StateReason, state)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// guestClient gives up on an attempt quickly: while a guest boots, its
// address does not answer ARP and a connect would hang for seconds, hiding
// the moment it comes up.
var guestClient = &http.Client{
	Timeout:   300 * time.Millisecond,
	Transport: &http.Transport{DialContext: netns.Dialer(Namespace), DisableKeepAlives: true},
}

// GuestGet fetches http://ip/path from inside the data-plane namespace.
func GuestGet(ip, path string) (string, error) {
	resp, err := guestClient.Get("http://" + ip + path)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		return string(b), fmt.Errorf("GET %s: %s", path, resp.Status)
	}
	return string(b), err
}

// WaitHTTP polls the guest until its page contains want.
func WaitHTTP(ctx context.Context, ip, path, want string) error {
	for {
		body, err := GuestGet(ip, path)
		if err == nil && strings.Contains(body, want) {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("guest %s%s never answered with %q (last: %q, %v)", ip, path, want, body, err)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// Domains lists every domain name libvirt knows.
func Domains(tb testing.TB) map[string]bool {
	tb.Helper()
	out, err := exec.Command("virsh", "-c", LibvirtURI, "list", "--all", "--name").Output()
	if err != nil {
		tb.Fatalf("virsh list: %v", err)
	}
	names := map[string]bool{}
	for _, l := range strings.Fields(string(out)) {
		names[l] = true
	}
	return names
}

// WaitTemplates waits until n templates are saved and ready to restore.
func (c *Cloud) WaitTemplates(n int, timeout time.Duration) {
	c.tb.Helper()
	deadline := time.Now().Add(timeout)
	for {
		files, _ := filepath.Glob(filepath.Join(c.DataDir, "templates", "*", "memory.save"))
		if len(files) >= n {
			return
		}
		if time.Now().After(deadline) {
			c.tb.Fatalf("%d of %d templates ready after %s:\n%s", len(files), n, timeout, c.Log())
		}
		time.Sleep(200 * time.Millisecond)
	}
}
