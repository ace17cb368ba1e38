package tiny

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"time"

	"kumo/internal/atomicfile"
)

// rootDiskMiB is the virtual size of the root disk. qcow2 stores only
// what is written, so the size costs nothing until the guest fills it.
const rootDiskMiB = 64

// markerFile names the file on the root disk that says what made it, so
// that a look inside a disk or an image made from an instance tells where
// it came from.
const markerFile = "kumo-tiny"

// writeRootDisk makes the root disk: an ext4 file system, mounted by the
// guest at /data, in a qcow2 file that instances use as their backing
// file.
func writeRootDisk(ctx context.Context, dst, digest string) error {
	dir := filepath.Dir(dst)
	staging, err := os.MkdirTemp(dir, ".rootfs-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(staging)
	tree := filepath.Join(staging, "tree")
	if err := os.Mkdir(tree, 0o755); err != nil {
		return err
	}
	marker := filepath.Join(tree, markerFile)
	if err := os.WriteFile(marker, []byte("kumo-tiny root disk "+digest+"\n"), 0o644); err != nil {
		return err
	}
	epoch := time.Unix(0, 0)
	for _, p := range []string{marker, tree} {
		if err := os.Chtimes(p, epoch, epoch); err != nil {
			return err
		}
	}

	raw := filepath.Join(staging, "root.raw")
	uuid := uuidFrom(digest)
	// A fixed UUID and hash seed make the file system a function of its
	// content. 256-byte inodes keep timestamps good past 2038 (small file
	// systems default to 128). Initialising the inode tables and journal
	// here keeps the guest's kernel from zeroing them in the background
	// after the first mount, slowly under TCG and into every instance's
	// overlay.
	mkfs := exec.CommandContext(ctx, "mke2fs", "-q", "-F", "-t", "ext4", "-b", "4096", "-I", "256",
		"-L", "kumo-root", "-U", uuid,
		"-E", "lazy_itable_init=0,lazy_journal_init=0,root_owner=0:0,hash_seed="+uuid,
		"-d", tree, raw, fmt.Sprintf("%dM", rootDiskMiB))
	if out, err := mkfs.CombinedOutput(); err != nil {
		return fmt.Errorf("mke2fs: %v: %s", err, bytes.TrimSpace(out))
	}

	tmp := filepath.Join(dir, "."+filepath.Base(dst)+".tmp")
	os.Remove(tmp)
	defer os.Remove(tmp)
	if out, err := exec.CommandContext(ctx, "qemu-img", "convert", "-q", "-f", "raw", "-O", "qcow2",
		raw, tmp).CombinedOutput(); err != nil {
		return fmt.Errorf("qemu-img convert: %v: %s", err, bytes.TrimSpace(out))
	}
	return atomicfile.Install(tmp, dst)
}

// uuidFrom shapes the first 16 bytes of a hex digest as a UUID.
func uuidFrom(digest string) string {
	d := (digest + "00000000000000000000000000000000")[:32]
	return d[0:8] + "-" + d[8:12] + "-" + d[12:16] + "-" + d[16:20] + "-" + d[20:32]
}
