package tiny

import (
	"bytes"
	"compress/gzip"
	"fmt"
	"io"
	"slices"
	"strconv"
	"testing"
)

type cpioEntry struct {
	name         string
	mode         uint32
	nlink        uint32
	ino          uint32
	rmaj, rmin   uint32
	data         []byte
	headerOffset int
}

// readCPIO parses a newc archive strictly, the way the kernel does, and
// fails on anything misaligned.
func readCPIO(t *testing.T, b []byte) []cpioEntry {
	t.Helper()
	var out []cpioEntry
	off := 0
	align := func(n int) int { return (n + 3) &^ 3 }
	for {
		if off%4 != 0 {
			t.Fatalf("entry at %d not 4-byte aligned", off)
		}
		if len(b)-off < 110 {
			t.Fatalf("truncated header at %d", off)
		}
		h := b[off : off+110]
		if string(h[:6]) != "070701" {
			t.Fatalf("bad magic %q at %d", h[:6], off)
		}
		field := func(i int) uint32 {
			v, err := strconv.ParseUint(string(h[6+8*i:6+8*i+8]), 16, 32)
			if err != nil {
				t.Fatalf("bad field %d at %d: %v", i, off, err)
			}
			return uint32(v)
		}
		e := cpioEntry{ino: field(0), mode: field(1), nlink: field(4), rmaj: field(9), rmin: field(10), headerOffset: off}
		if field(2) != 0 || field(3) != 0 || field(5) != 0 {
			t.Errorf("entry at %d: uid %d gid %d mtime %d, want zeros", off, field(2), field(3), field(5))
		}
		size, namesize := int(field(6)), int(field(11))
		nameStart := off + 110
		if b[nameStart+namesize-1] != 0 {
			t.Fatalf("name at %d not NUL-terminated", nameStart)
		}
		e.name = string(b[nameStart : nameStart+namesize-1])
		dataStart := align(nameStart + namesize)
		e.data = b[dataStart : dataStart+size]
		off = align(dataStart + size)
		if e.name == "TRAILER!!!" {
			if off != len(b) {
				t.Fatalf("%d bytes after trailer", len(b)-off)
			}
			return out
		}
		out = append(out, e)
	}
}

func TestCPIOWriterRoundTrip(t *testing.T) {
	var buf bytes.Buffer
	c := newCPIOWriter(&buf)
	c.Dir("bin", 0o755)
	c.File("bin/busybox", 0o755, []byte("abc")) // odd sizes exercise padding
	c.Symlink("init", "/bin/busybox")
	c.Dir("dev", 0o755)
	c.CharDev("dev/console", 0o600, 5, 1)
	c.File("/etc-less-name", 0o644, nil)
	c.File("x", 0o644, bytes.Repeat([]byte{'z'}, 5))
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	got := readCPIO(t, buf.Bytes())
	want := []struct {
		name string
		mode uint32
		data string
	}{
		{"bin", 0o040755, ""},
		{"bin/busybox", 0o100755, "abc"},
		{"init", 0o120777, "/bin/busybox"},
		{"dev", 0o040755, ""},
		{"dev/console", 0o020600, ""},
		{"etc-less-name", 0o100644, ""},
		{"x", 0o100644, "zzzzz"},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d entries, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if g.name != w.name || g.mode != w.mode || string(g.data) != w.data {
			t.Errorf("entry %d = %q %o %q, want %q %o %q", i, g.name, g.mode, g.data, w.name, w.mode, w.data)
		}
		if g.ino != uint32(i+1) {
			t.Errorf("entry %d (%s) has inode %d, want %d", i, g.name, g.ino, i+1)
		}
	}
	if got[4].rmaj != 5 || got[4].rmin != 1 {
		t.Errorf("console is %d:%d, want 5:1", got[4].rmaj, got[4].rmin)
	}
	if got[0].nlink != 2 || got[1].nlink != 1 {
		t.Errorf("nlink dir %d file %d, want 2 and 1", got[0].nlink, got[1].nlink)
	}
}

func TestCPIOWriterRejectsBadNames(t *testing.T) {
	for _, name := range []string{"", "/", "a\x00b"} {
		c := newCPIOWriter(io.Discard)
		c.File(name, 0o644, nil)
		if err := c.Close(); err == nil {
			t.Errorf("name %q accepted", name)
		}
	}
}

func fakeInitramfsInputs() initramfsInputs {
	in := initramfsInputs{
		busybox: []byte("\x7fELF fake busybox"),
		applets: []string{"bin/sh", "sbin/init", "usr/bin/wget", "bin/busybox", "linuxrc", "sbin/acpid"},
	}
	for _, m := range modules {
		in.modules = append(in.modules, []byte("module "+m))
	}
	return in
}

func TestInitramfsIsReproducibleAndComplete(t *testing.T) {
	var a, b bytes.Buffer
	if err := writeInitramfs(&a, fakeInitramfsInputs()); err != nil {
		t.Fatal(err)
	}
	if err := writeInitramfs(&b, fakeInitramfsInputs()); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a.Bytes(), b.Bytes()) {
		t.Fatal("same inputs gave different archives")
	}
	zr, err := gzip.NewReader(&a)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(zr)
	if err != nil {
		t.Fatal(err)
	}
	entries := readCPIO(t, raw)
	byName := map[string]cpioEntry{}
	seenDirs := map[string]bool{"": true}
	for _, e := range entries {
		if _, dup := byName[e.name]; dup {
			t.Errorf("%s twice", e.name)
		}
		byName[e.name] = e
		parent := ""
		if i := bytes.LastIndexByte([]byte(e.name), '/'); i >= 0 {
			parent = e.name[:i]
		}
		if !seenDirs[parent] {
			t.Errorf("%s comes before its folder %q", e.name, parent)
		}
		if e.mode&0o170000 == cpioDir {
			seenDirs[e.name] = true
		}
	}
	for name, target := range map[string]string{
		"init": "/bin/busybox", "bin/sh": "/bin/busybox", "usr/bin/wget": "/bin/busybox", "sbin/acpid": "/bin/busybox",
	} {
		if e, ok := byName[name]; !ok || e.mode&0o170000 != cpioSymlink || string(e.data) != target {
			t.Errorf("%s: want symlink to %s, have %+v", name, target, e)
		}
	}
	for _, name := range []string{"bin/busybox", "etc/inittab", "etc/init.sh", "etc/shutdown.sh",
		"etc/acpi/PWRF/00000080", "etc/modules", "dev/console", "proc", "sys", "data", "tmp"} {
		if _, ok := byName[name]; !ok {
			t.Errorf("%s missing", name)
		}
	}
	if e := byName["etc/init.sh"]; e.mode&0o111 == 0 {
		t.Errorf("init.sh not executable: %o", e.mode)
	}
	for _, m := range modules {
		if e, ok := byName["lib/modules/"+m+".ko"]; !ok || string(e.data) != "module "+m {
			t.Errorf("module %s missing or wrong", m)
		}
	}
	// The two lists init reads, one after the other, are the load order.
	var list bytes.Buffer
	for _, m := range modules {
		fmt.Fprintln(&list, m)
	}
	if got := string(byName["etc/modules"].data) + string(byName["etc/modules.late"].data); got != list.String() {
		t.Errorf("etc/modules + etc/modules.late = %q, want %q", got, list.String())
	}
}

func TestModuleOrder(t *testing.T) {
	early, late := splitModules()
	if !slices.Equal(append(early, late...), modules) {
		t.Fatalf("modules loaded after HTTP are not the last ones: %v then %v", early, late)
	}
	// The order the cloud kernel is known to need for its virtio devices.
	want := []string{"virtio_ring", "virtio", "virtio_pci_legacy_dev", "virtio_pci_modern_dev", "virtio_pci",
		"failover", "net_failover", "virtio_net", "virtio_blk"}
	pos := map[string]int{}
	for i, m := range modules {
		pos[m] = i
	}
	for i := 1; i < len(want); i++ {
		a, okA := pos[want[i-1]]
		b, okB := pos[want[i]]
		if !okA || !okB || a >= b {
			t.Errorf("%s must be loaded before %s", want[i-1], want[i])
		}
	}
	if !slices.Contains(early, "virtio_net") {
		t.Error("virtio_net is not loaded before HTTP")
	}
}
