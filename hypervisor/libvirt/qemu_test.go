package libvirt

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"kumo/hypervisor"
	"kumo/images/tiny"
)

// These tests boot kumo-tiny on the host's libvirtd (QEMU, TCG without
// KVM). They only touch domains named i-qemutest-*, which they remove
// however they end, and attach them to the host's "kumo" network without
// addresses, so the guests send nothing anyone listens to. They are the
// only place the package imports another kumo package than hypervisor:
// the image they boot.

const qemuURI = "qemu:///system"

// guestReader is the user data of the test guests: it opens the identity
// port once and echoes every line to the console. Keeping the port open
// matters: a virtio port drops unread data when the guest closes it, and
// read returns end of file at once while no host end is connected.
const guestReader = `#!/bin/sh
port=
for p in /sys/class/virtio-ports/*; do
	[ "$(cat "$p/name" 2>/dev/null)" = org.kumo.identity ] && port=/dev/${p##*/}
done
if [ -z "$port" ]; then
	echo "kumo-test: no identity port"
	exit 1
fi
exec 3<"$port"
echo "kumo-test: reading $port"
while :; do
	if read -r line <&3; then echo "kumo-test: got $line"; else sleep 0.1; fi
done
`

func qemuDriver(t *testing.T) *Driver {
	t.Helper()
	// make test prepares the host's libvirtd; its absence is a failure.
	d, err := New(qemuURI, Options{})
	if err != nil {
		t.Fatalf("no libvirtd at %s (make setup starts it): %v", qemuURI, err)
	}
	t.Cleanup(func() { d.Close() })
	return d
}

var (
	imageOnce sync.Once
	imageArt  tiny.Artifacts
	imageErr  error
)

// tinyImage builds kumo-tiny once per test binary into the cache the
// image's own tests use, then copies kernel and initrd to dir: QEMU runs
// as its own user and cannot reach a cache under /root.
func tinyImage(t *testing.T, dir string) (kernel, initrd string) {
	t.Helper()
	imageOnce.Do(func() {
		cache := os.Getenv("KUMO_IMAGE_CACHE")
		if cache != "" {
			cache = filepath.Join(cache, "tiny")
		} else if c, err := os.UserCacheDir(); err == nil {
			cache = filepath.Join(c, "kumo-test", "tiny")
		} else {
			imageErr = fmt.Errorf("no cache folder: %v (set KUMO_IMAGE_CACHE)", err)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
		defer cancel()
		imageArt, imageErr = tiny.Build(ctx, cache, io.Discard)
	})
	if imageErr != nil {
		t.Fatalf("build kumo-tiny: %v", imageErr)
	}
	kernel, initrd = filepath.Join(dir, "vmlinux"), filepath.Join(dir, "initrd.gz")
	copyFile(t, imageArt.Kernel, kernel)
	copyFile(t, imageArt.Initrd, initrd)
	return kernel, initrd
}

func copyFile(t *testing.T, src, dst string) {
	t.Helper()
	b, err := os.ReadFile(src)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(dst, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// qemuDir is a folder QEMU can read, removed when the test ends.
func qemuDir(t *testing.T) string {
	t.Helper()
	dir, err := os.MkdirTemp("/var/tmp", "kumo-hv-test-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	return dir
}

// guestSpec is a kumo-tiny guest with a blank scratch disk (which the
// guest leaves alone, so restored copies need not match its content), a
// seed disk with guestReader, a NIC and the identity channel.
func guestSpec(t *testing.T, dir, kernel, initrd, name string) hypervisor.Spec {
	t.Helper()
	scratch := filepath.Join(dir, name+"-scratch.raw")
	if err := os.WriteFile(scratch, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	os.Truncate(scratch, 16<<20)
	seed := filepath.Join(dir, name+"-seed.tar")
	writeSeed(t, seed, name, guestReader)
	return hypervisor.Spec{
		Name:       name,
		VCPUs:      1,
		MemoryMiB:  512,
		Kernel:     kernel,
		Initrd:     initrd,
		Cmdline:    tiny.Cmdline + " kumo.id=" + name,
		Disks:      []hypervisor.Disk{{Path: scratch, Format: hypervisor.FormatRaw}, {Path: seed, Format: hypervisor.FormatRaw, ReadOnly: true}},
		NICs:       []hypervisor.NIC{{MAC: "52:54:00:" + randomSuffix()[:2] + ":" + randomSuffix()[:2] + ":" + randomSuffix()[:2], Network: "kumo"}},
		ConsoleLog: filepath.Join(dir, name+"-console.log"),
		Metadata:   `{"test":"` + name + `"}`,
		Channels:   []string{"org.kumo.identity"},
	}
}

// writeSeed writes a seed disk as kumo does: a ustar archive holding
// instance-id and user-data.
func writeSeed(t *testing.T, path, id, userData string) {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range []struct{ name, body string }{{"instance-id", id + "\n"}, {"user-data", userData}} {
		tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o600, Size: int64(len(f.body)), Format: tar.FormatUSTAR})
		tw.Write([]byte(f.body))
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

// defineGuest defines spec and removes the domain when the test ends.
func defineGuest(t *testing.T, d *Driver, spec hypervisor.Spec) {
	t.Helper()
	if err := d.Define(ctx(t), spec); err != nil {
		t.Fatalf("Define(%s): %v", spec.Name, err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if err := d.Destroy(c, spec.Name); err != nil && !errors.Is(err, hypervisor.ErrNotFound) {
			t.Errorf("cleanup: Destroy(%s): %v", spec.Name, err)
		}
		if err := d.Undefine(c, spec.Name); err != nil {
			t.Errorf("cleanup: Undefine(%s): %v", spec.Name, err)
		}
		if t.Failed() {
			b, _ := os.ReadFile(spec.ConsoleLog)
			if len(b) > 3000 {
				b = b[len(b)-3000:]
			}
			t.Logf("console of %s:\n%s", spec.Name, b)
		}
	})
}

func waitConsole(t *testing.T, spec hypervisor.Spec, want string, timeout time.Duration) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for {
		b, _ := os.ReadFile(spec.ConsoleLog)
		if bytes.Contains(b, []byte(want)) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("console of %s does not show %q after %s", spec.Name, want, timeout)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// waitConnected polls as kumo does and returns how long it took.
func waitConnected(t *testing.T, d *Driver, name string, timeout time.Duration) time.Duration {
	t.Helper()
	start := time.Now()
	for {
		ok, err := d.ChannelConnected(ctx(t), name, "org.kumo.identity")
		if err != nil {
			t.Fatalf("ChannelConnected(%s): %v", name, err)
		}
		if ok {
			return time.Since(start)
		}
		if time.Since(start) > timeout {
			t.Fatalf("%s: channel not connected after %s", name, timeout)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// say writes a line to the guest and waits for it to echo it.
func say(t *testing.T, d *Driver, spec hypervisor.Spec, line string) {
	t.Helper()
	if err := d.WriteChannel(ctx(t), spec.Name, "org.kumo.identity", []byte(line+"\n")); err != nil {
		t.Fatalf("WriteChannel(%s): %v", spec.Name, err)
	}
	waitConsole(t, spec, "kumo-test: got "+line, 30*time.Second)
}

func TestQEMUSaveRestoreChannels(t *testing.T) {
	d := qemuDriver(t)
	dir := qemuDir(t)
	kernel, initrd := tinyImage(t, dir)
	prefix := "i-qemutest-" + randomSuffix()
	spec := func(role string) hypervisor.Spec {
		return guestSpec(t, dir, kernel, initrd, prefix+"-"+role)
	}

	// A template guest, booted until it reads its port.
	tmpl := spec("tmpl")
	defineGuest(t, d, tmpl)
	start := time.Now()
	if err := d.Start(ctx(t), tmpl.Name); err != nil {
		t.Fatal(err)
	}
	waitConsole(t, tmpl, "kumo-test: reading", 2*time.Minute)
	wait := waitConnected(t, d, tmpl.Name, 30*time.Second)
	t.Logf("template booted and opened its port in %s (ChannelConnected true %s after the guest said so)",
		time.Since(start).Round(time.Millisecond), wait.Round(time.Millisecond))
	say(t, d, tmpl, "hello-template")

	path := filepath.Join(dir, "memory.save")
	start = time.Now()
	if err := d.SaveMemory(ctx(t), tmpl.Name, path); err != nil {
		t.Fatalf("SaveMemory: %v", err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("SaveMemory of a %d MiB guest: %s, %.1f MiB", tmpl.MemoryMiB, time.Since(start).Round(time.Millisecond), float64(st.Size())/(1<<20))
	// The image has no zero pages of guest RAM left to drop: the restores
	// below prove a guest runs without them.
	copyFile(t, path, path+".again")
	if dropped, err := dropZeroPagesIn(path + ".again"); err != nil || dropped != 0 {
		t.Fatalf("the saved image still holds %d zero pages of guest RAM (%v)", dropped, err)
	}
	if dom, _ := d.Inspect(ctx(t), tmpl.Name); dom.State != hypervisor.PowerShutoff {
		t.Fatalf("template is %s after SaveMemory", dom.State)
	}

	copies := []hypervisor.Spec{spec("a"), spec("b"), spec("c"), spec("d")}
	uuids := map[string]string{}
	for _, c := range copies {
		defineGuest(t, d, c)
		dom, _ := d.Inspect(ctx(t), c.Name)
		uuids[c.Name] = dom.UUID
	}
	check := func(c hypervisor.Spec) {
		t.Helper()
		dom, err := d.Inspect(ctx(t), c.Name)
		if err != nil || dom.State != hypervisor.PowerRunning || dom.UUID != uuids[c.Name] || dom.Metadata != c.Metadata {
			t.Fatalf("Inspect(%s) after restore = %+v, %v", c.Name, dom, err)
		}
		wantRestoredXML(t, d, tmpl, c, uuids[c.Name])
		took := waitConnected(t, d, c.Name, 30*time.Second)
		t.Logf("%s: ChannelConnected true %s after RestoreMemory returned", c.Name, took.Round(time.Millisecond))
		say(t, d, c, "hello-"+c.Name)
	}

	start = time.Now()
	if err := d.RestoreMemory(ctx(t), path, copies[0]); err != nil {
		t.Fatalf("RestoreMemory(%s): %v", copies[0].Name, err)
	}
	t.Logf("RestoreMemory alone: %s", time.Since(start).Round(time.Millisecond))
	check(copies[0])

	start = time.Now()
	var wg sync.WaitGroup
	errs := make([]error, len(copies))
	for i, c := range copies[1:] {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i+1] = d.RestoreMemory(ctx(t), path, c)
		}()
	}
	wg.Wait()
	t.Logf("RestoreMemory of %d at once: %s", len(copies)-1, time.Since(start).Round(time.Millisecond))
	for i, c := range copies[1:] {
		if errs[i+1] != nil {
			t.Fatalf("RestoreMemory(%s): %v", c.Name, errs[i+1])
		}
		check(c)
	}
	// Temporary files and FIFOs are hidden ones next to the image.
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), ".") {
			t.Errorf("%s left in %s", e.Name(), dir)
		}
	}

	wantErr := func(what string, err, want error) {
		t.Helper()
		if !errors.Is(err, want) {
			t.Errorf("%s: %v, want %v", what, err, want)
		}
	}
	wantErr("RestoreMemory onto a running domain", d.RestoreMemory(ctx(t), path, copies[1]), hypervisor.ErrInvalidState)
	missing := copies[1]
	missing.Name = prefix + "-missing"
	wantErr("RestoreMemory of an undefined domain", d.RestoreMemory(ctx(t), path, missing), hypervisor.ErrNotFound)

	// A save whose context ends while it runs either finishes (the file is
	// complete, the guest off) or is cut short (no file, the guest still
	// running); which one depends on timing, never a mix of both.
	short, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	other := filepath.Join(dir, "cut-short.save")
	err = d.SaveMemory(short, copies[1].Name, other)
	_, statErr := os.Stat(other)
	dom, _ := d.Inspect(ctx(t), copies[1].Name)
	t.Logf("SaveMemory with a 200ms context: %v", err)
	switch {
	case err == nil:
		if statErr != nil || dom.State != hypervisor.PowerShutoff {
			t.Errorf("a finished SaveMemory: file %v, domain %s", statErr, dom.State)
		}
		if err := d.RestoreMemory(ctx(t), other, copies[1]); err != nil {
			t.Fatalf("restoring a save that beat its deadline: %v", err)
		}
	case errors.Is(err, context.DeadlineExceeded):
		if !os.IsNotExist(statErr) || dom.State != hypervisor.PowerRunning {
			t.Errorf("a cancelled SaveMemory: file %v, domain %s", statErr, dom.State)
		}
	default:
		t.Errorf("SaveMemory with a 200ms context: %v", err)
	}
	say(t, d, copies[1], "still-there")

	// The same for a restore: running, or off and restorable.
	dd := copies[3]
	if err := d.Destroy(ctx(t), dd.Name); err != nil {
		t.Fatal(err)
	}
	short, cancel = context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start = time.Now()
	err = d.RestoreMemory(short, path, dd)
	t.Logf("RestoreMemory with a 300ms context: %v after %s", err, time.Since(start).Round(time.Millisecond))
	dom, _ = d.Inspect(ctx(t), dd.Name)
	switch {
	case err == nil && dom.State == hypervisor.PowerRunning:
		if err := d.Destroy(ctx(t), dd.Name); err != nil {
			t.Fatal(err)
		}
	case errors.Is(err, context.DeadlineExceeded) && dom.State == hypervisor.PowerShutoff:
	default:
		t.Errorf("RestoreMemory with a 300ms context: %v, domain %s", err, dom.State)
	}
	if err := d.RestoreMemory(ctx(t), path, dd); err != nil {
		t.Fatalf("RestoreMemory after a cancelled one: %v", err)
	}
	say(t, d, dd, "again")

	// After the restored run, a cold start boots the domain as defined:
	// its own command line, its own MAC.
	a := copies[0]
	if err := d.Destroy(ctx(t), a.Name); err != nil {
		t.Fatal(err)
	}
	if err := d.Start(ctx(t), a.Name); err != nil {
		t.Fatal(err)
	}
	waitConsole(t, a, "kumo-tiny: ready "+a.Name, 2*time.Minute)
	if mac := domainXML(t, d, a.Name, 0).Devices.Interfaces[0].MAC.Address; mac != a.NICs[0].MAC {
		t.Errorf("MAC after a cold start %s, want %s", mac, a.NICs[0].MAC)
	}
}

// TestQEMUSerialConsole types into the guest's root shell on its serial
// line and reads the answer, then checks the stream ends with the guest.
func TestQEMUSerialConsole(t *testing.T) {
	d := qemuDriver(t)
	dir := qemuDir(t)
	kernel, initrd := tinyImage(t, dir)
	spec := guestSpec(t, dir, kernel, initrd, "i-qemutest-"+randomSuffix()+"-console")
	defineGuest(t, d, spec)
	if _, err := d.OpenConsole(ctx(t), spec.Name); !errors.Is(err, hypervisor.ErrInvalidState) {
		t.Errorf("console of a shut-off domain: %v, want ErrInvalidState", err)
	}
	if err := d.Start(ctx(t), spec.Name); err != nil {
		t.Fatal(err)
	}
	waitConsole(t, spec, "kumo-test: reading", 2*time.Minute)
	con, err := d.OpenConsole(ctx(t), spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer con.Close()
	// The shell computes the answer, so it cannot be the echo of the
	// typed line.
	if _, err := con.Write([]byte("echo typed-$((6*7))\r")); err != nil {
		t.Fatal(err)
	}
	got := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(con)
		got <- string(b)
	}()
	waitConsole(t, spec, "typed-42", 30*time.Second)
	if err := d.Destroy(ctx(t), spec.Name); err != nil {
		t.Fatal(err)
	}
	select {
	case out := <-got:
		if !strings.Contains(out, "typed-42") {
			t.Errorf("console stream printed %q, want the shell's answer typed-42", out)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the console stream did not end with the domain")
	}
}
