package tiny

import (
	"bytes"
	"compress/gzip"
	"context"
	"embed"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"sort"
	"strings"
)

// guest holds the files init runs: init.sh is the boot script, the rest
// wire busybox init, acpid and the shell to it.
//
//go:embed guest
var guest embed.FS

// guestFiles maps each embedded file to where it lives in the guest.
var guestFiles = []struct {
	src, dst string
	perm     uint32
}{
	{"guest/inittab", "etc/inittab", 0o644},
	{"guest/init.sh", "etc/init.sh", 0o755},
	{"guest/shutdown.sh", "etc/shutdown.sh", 0o755},
	{"guest/power-button.sh", "etc/acpi/PWRF/00000080", 0o755},
	{"guest/profile", "etc/profile", 0o644},
}

// noApplet are busybox applets left out of the image. The kernel runs
// /sbin/modprobe for every module it looks for while it boots (crypto
// algorithms, mostly); with busybox there, each lookup starts a process
// that finds no modules.dep, which under TCG adds up to a noticeable part
// of the boot. Without it the kernel gives up at once. Modules are
// loaded by init with insmod.
var noApplet = map[string]bool{"sbin/modprobe": true}

// initramfsInputs is what the initramfs is made of, read from the
// unpacked packages.
type initramfsInputs struct {
	busybox []byte
	applets []string // busybox's applets with their paths, e.g. "bin/sh"
	modules [][]byte // in the order of modules
}

// readInitramfsInputs gathers busybox, its applet list and the modules.
func readInitramfsInputs(ctx context.Context, busyboxRoot string, k kernelTree) (initramfsInputs, error) {
	var in initramfsInputs
	bb := filepath.Join(busyboxRoot, "bin", "busybox")
	var err error
	if in.busybox, err = os.ReadFile(bb); err != nil {
		return in, err
	}
	// Asking the binary itself keeps the links in step with the busybox
	// build; it is static, so it runs on any amd64 host.
	out, err := exec.CommandContext(ctx, bb, "--list-full").Output()
	if err != nil {
		return in, fmt.Errorf("%s --list-full: %v", bb, err)
	}
	in.applets = strings.Fields(string(out))
	if in.modules, err = k.loadModules(); err != nil {
		return in, err
	}
	return in, nil
}

// writeInitramfs writes the gzip-compressed newc archive the kernel
// unpacks as its root file system. Its bytes depend only on the inputs.
func writeInitramfs(w io.Writer, in initramfsInputs) error {
	zw, err := gzip.NewWriterLevel(w, gzip.BestCompression)
	if err != nil {
		return err
	}
	c := newCPIOWriter(zw)

	dirs := map[string]bool{}
	var mkdir func(string)
	mkdir = func(d string) {
		if d == "." || d == "" || dirs[d] {
			return
		}
		mkdir(path.Dir(d))
		dirs[d] = true
		perm := uint32(0o755)
		switch d {
		case "tmp":
			perm = 0o1777
		case "root":
			perm = 0o700
		}
		c.Dir(d, perm)
	}
	for _, d := range []string{"bin", "sbin", "usr/bin", "usr/sbin", "dev", "proc", "sys", "run",
		"tmp", "root", "data", "www", "var/log", "etc/acpi/PWRF", "lib/modules"} {
		mkdir(d)
	}
	c.CharDev("dev/console", 0o600, 5, 1)
	c.CharDev("dev/null", 0o666, 1, 3)

	c.File("bin/busybox", 0o755, in.busybox)
	c.Symlink("init", "/bin/busybox")
	applets := append([]string(nil), in.applets...)
	sort.Strings(applets)
	for _, a := range applets {
		a = strings.TrimPrefix(path.Clean("/"+a), "/")
		if a == "bin/busybox" || a == "init" || noApplet[a] {
			continue
		}
		mkdir(path.Dir(a))
		c.Symlink(a, "/bin/busybox")
	}

	for i, m := range modules {
		c.File("lib/modules/"+m+".ko", 0o644, in.modules[i])
	}
	early, late := splitModules()
	c.File("etc/modules", 0o644, []byte(strings.Join(early, "\n")+"\n"))
	c.File("etc/modules.late", 0o644, []byte(strings.Join(late, "\n")+"\n"))

	for _, f := range guestFiles {
		data, err := guest.ReadFile(f.src)
		if err != nil {
			return err
		}
		mkdir(path.Dir(f.dst))
		c.File(f.dst, f.perm, data)
	}
	c.File("etc/passwd", 0o644, []byte("root:x:0:0:root:/root:/bin/sh\n"))
	c.File("etc/group", 0o644, []byte("root:x:0:\n"))

	if err := c.Close(); err != nil {
		return err
	}
	return zw.Close()
}

// guestDigestInput is the embedded guest files in a stable order, for the
// build digest.
func guestDigestInput() ([]byte, error) {
	var b bytes.Buffer
	for _, f := range guestFiles {
		data, err := guest.ReadFile(f.src)
		if err != nil {
			return nil, err
		}
		fmt.Fprintf(&b, "%s %s %o %d\n", f.src, f.dst, f.perm, len(data))
		b.Write(data)
	}
	return b.Bytes(), nil
}
