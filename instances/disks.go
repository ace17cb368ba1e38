package instances

import (
	"archive/tar"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"kumo/internal/atomicfile"
	"kumo/internal/ids"
)

// disks keeps each instance's files in a folder named after it: the root
// disk (a qcow2 overlay on the image's disk, so launching copies nothing),
// the seed disk that carries user data to the guest, and the console log.
type disks struct {
	dir string
}

// files are the paths of one domain's files.
type files struct {
	root, seed, console string
}

func (d disks) files(id string) files {
	return files{root: d.root(id), seed: d.seed(id), console: d.console(id)}
}

func (d disks) folder(id string) string  { return filepath.Join(d.dir, id) }
func (d disks) root(id string) string    { return filepath.Join(d.dir, id, "root.qcow2") }
func (d disks) seed(id string) string    { return filepath.Join(d.dir, id, "seed.tar") }
func (d disks) console(id string) string { return filepath.Join(d.dir, id, "console.log") }

// createRoot makes the overlay unless it exists. It is written under a
// temporary name and renamed, so a crash never leaves a half-made disk
// under the real name.
func createRoot(ctx context.Context, path, base, baseFormat string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if _, err := os.Stat(path); err == nil {
		return nil
	}
	tmp := path + ".tmp"
	os.Remove(tmp)
	out, err := exec.CommandContext(ctx, "qemu-img", "create", "-q", "-f", "qcow2",
		"-b", base, "-F", baseFormat, tmp).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img create: %v: %s", err, bytes.TrimSpace(out))
	}
	return os.Rename(tmp, path)
}

// createSeed writes the seed disk: a tar archive the guest finds by its
// magic and unpacks. Tar needs no tools on the host and its 512-byte
// records make a valid block device size.
func createSeed(path, id string, userData []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	files := []struct {
		name string
		body []byte
	}{{"instance-id", []byte(id + "\n")}, {"user-data", userData}}
	for _, f := range files {
		if err := tw.WriteHeader(&tar.Header{Name: f.name, Mode: 0o600, Size: int64(len(f.body)), Format: tar.FormatUSTAR}); err != nil {
			return err
		}
		if _, err := tw.Write(f.body); err != nil {
			return err
		}
	}
	if err := tw.Close(); err != nil {
		return err
	}
	return atomicfile.WriteBytes(path, 0o644, buf.Bytes())
}

// flatten writes the instance's root disk, with its image's base merged
// in, as one standalone qcow2 file at dst.
func (d disks) flatten(ctx context.Context, id, dst string) error {
	out, err := exec.CommandContext(ctx, "qemu-img", "convert", "-q", "-f", "qcow2", "-O", "qcow2",
		d.root(id), dst).CombinedOutput()
	if err != nil {
		return fmt.Errorf("qemu-img convert: %v: %s", err, bytes.TrimSpace(out))
	}
	return nil
}

func (d disks) remove(id string) error {
	if !ids.Valid("i", id) {
		return fmt.Errorf("refusing to remove files of malformed instance id %q", id)
	}
	return os.RemoveAll(d.folder(id))
}

// leftovers lists instance folders on disk.
func (d disks) leftovers() ([]string, error) {
	entries, err := os.ReadDir(d.dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var out []string
	for _, e := range entries {
		if e.IsDir() && ids.Valid("i", e.Name()) {
			out = append(out, e.Name())
		}
	}
	return out, nil
}

// readTail returns at most the last n bytes of a file; a missing file is
// empty.
func readTail(path string, n int64) ([]byte, error) {
	f, err := os.Open(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, err
	}
	off := max(fi.Size()-n, 0)
	buf := make([]byte, fi.Size()-off)
	_, err = f.ReadAt(buf, off)
	return buf, err
}
