package tiny

import (
	"fmt"
	"io"
	"strings"
)

// cpioWriter writes the "newc" cpio format the kernel unpacks as an
// initramfs. It is written here rather than shelled out to cpio(1) so that
// the archive depends only on its entries: inode numbers count up from 1,
// owners are root and mtimes are zero, whatever the host's files say.
type cpioWriter struct {
	w   io.Writer
	ino uint32
	err error
}

func newCPIOWriter(w io.Writer) *cpioWriter { return &cpioWriter{w: w} }

// File modes as the kernel's initramfs unpacker reads them.
const (
	cpioDir     = 0o040000
	cpioRegular = 0o100000
	cpioSymlink = 0o120000
	cpioChar    = 0o020000
)

// Dir adds a directory. Parents must come first: the kernel does not
// create missing ones.
func (c *cpioWriter) Dir(name string, perm uint32) {
	c.entry(name, cpioDir|perm&0o7777, 2, 0, 0, nil)
}

// File adds a regular file.
func (c *cpioWriter) File(name string, perm uint32, data []byte) {
	c.entry(name, cpioRegular|perm&0o7777, 1, 0, 0, data)
}

// Symlink adds a symbolic link; newc stores the target as the file body.
func (c *cpioWriter) Symlink(name, target string) {
	c.entry(name, cpioSymlink|0o777, 1, 0, 0, []byte(target))
}

// CharDev adds a character device node. /dev/console has to be in the
// archive: the kernel opens it for init's stdio before init can mount
// devtmpfs.
func (c *cpioWriter) CharDev(name string, perm, major, minor uint32) {
	c.entry(name, cpioChar|perm&0o7777, 1, major, minor, nil)
}

// Close writes the trailer. It does not close the underlying writer.
func (c *cpioWriter) Close() error {
	c.ino = 0
	c.entry("TRAILER!!!", 0, 1, 0, 0, nil)
	return c.err
}

func (c *cpioWriter) entry(name string, mode, nlink, rmajor, rminor uint32, data []byte) {
	if c.err != nil {
		return
	}
	name = strings.TrimPrefix(name, "/")
	if name == "" || strings.ContainsRune(name, 0) {
		c.err = fmt.Errorf("cpio: bad name %q", name)
		return
	}
	ino := uint32(0)
	if name != "TRAILER!!!" {
		c.ino++
		ino = c.ino
	}
	// Fields in order: magic, ino, mode, uid, gid, nlink, mtime, filesize,
	// devmajor, devminor, rdevmajor, rdevminor, namesize, check.
	hdr := fmt.Sprintf("070701%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X%08X",
		ino, mode, 0, 0, nlink, 0, len(data), 0, 0, rmajor, rminor, len(name)+1, 0)
	c.write([]byte(hdr))
	c.write([]byte(name + "\x00"))
	c.pad(len(hdr) + len(name) + 1)
	c.write(data)
	c.pad(len(data))
}

func (c *cpioWriter) write(b []byte) {
	if c.err != nil || len(b) == 0 {
		return
	}
	_, c.err = c.w.Write(b)
}

// pad aligns to 4 bytes, as newc requires after the name and the body.
func (c *cpioWriter) pad(n int) {
	if r := n % 4; r != 0 {
		c.write(make([]byte, 4-r))
	}
}
