package libvirt

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	lv "libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"kumo/hypervisor"
	"kumo/internal/atomicfile"
)

var _ hypervisor.MemorySnapshotter = (*Driver)(nil)

// SaveMemory saves into a hidden file next to path and renames it over
// path once complete, so that readers of path (restores of an older save)
// never see a partial image. ctx can stop a save under way: the domain
// then keeps running.
func (d *Driver) SaveMemory(ctx context.Context, name, path string) error {
	return d.with(ctx, "save", name, func(dom *lv.Domain) error {
		st, err := state(dom)
		if err != nil {
			return mapError("save", name, err)
		}
		if st != hypervisor.PowerRunning && st != hypervisor.PowerPaused {
			return fmt.Errorf("libvirt: save %q (%s): %w", name, st, hypervisor.ErrInvalidState)
		}
		tmp := siblingName(path, "save")
		defer os.Remove(tmp) // after a failure; renamed away on success
		aborted := make(chan struct{})
		stop := context.AfterFunc(ctx, func() {
			defer close(aborted)
			// Fails when the save already ended, which is fine.
			_ = dom.AbortJob()
		})
		// RUNNING records that a restore should run the guest even if it
		// was paused when saved; the test driver takes no flags.
		err = withFallback(func(f lv.DomainSaveRestoreFlags) error { return dom.SaveFlags(tmp, "", f) },
			lv.DOMAIN_SAVE_RUNNING, 0)
		if !stop() {
			<-aborted // dom is freed when this function returns
		}
		if err != nil {
			if ctx.Err() != nil {
				return fmt.Errorf("libvirt: save %q: %w (%v)", name, ctx.Err(), err)
			}
			return mapError("save", name, err)
		}
		// An image that cannot be rewritten is kept as libvirt wrote it:
		// it restores as well, only slower.
		_, _ = dropZeroPagesIn(tmp)
		if err := atomicfile.Install(tmp, path); err != nil {
			return fmt.Errorf("libvirt: save %q: %w", name, err)
		}
		return nil
	})
}

// RestoreMemory starts the defined domain spec.Name from a copy of the
// image whose XML has been rewritten for it (see restoreDomain). libvirt
// then treats the restore like a start of that domain: the running domain
// gets the rewritten XML, and the persistent definition is kept for the
// next cold start.
func (d *Driver) RestoreMemory(ctx context.Context, path string, spec hypervisor.Spec) error {
	if err := validate(spec); err != nil {
		return err
	}
	return d.with(ctx, "restore", spec.Name, func(dom *lv.Domain) error {
		// libvirt would restore over a missing domain by creating a
		// transient one; the contract wants the defined domain started.
		persistent, err := dom.IsPersistent()
		if err != nil {
			return mapError("restore", spec.Name, err)
		}
		st, err := state(dom)
		if err != nil {
			return mapError("restore", spec.Name, err)
		}
		if !persistent || (st != hypervisor.PowerShutoff && st != hypervisor.PowerCrashed) {
			return fmt.Errorf("libvirt: restore %q (%s, persistent %v): %w", spec.Name, st, persistent, hypervisor.ErrInvalidState)
		}
		uuid, err := dom.GetUUIDString()
		if err != nil {
			return mapError("restore", spec.Name, err)
		}
		if spec.UUID != "" && !strings.EqualFold(spec.UUID, uuid) {
			return fmt.Errorf("libvirt: restore %q: spec UUID %s is not the defined domain's %s", spec.Name, spec.UUID, uuid)
		}
		f, err := os.Open(path)
		if err != nil {
			return fmt.Errorf("libvirt: restore %q: %w", spec.Name, err)
		}
		defer f.Close()
		img, err := readSaveImage(f)
		if err != nil {
			return fmt.Errorf("libvirt: restore %q: %w", spec.Name, err)
		}
		var def libvirtxml.Domain
		if err := def.Unmarshal(img.xml); err != nil {
			return fmt.Errorf("libvirt: restore %q: parse the XML saved in %s: %w", spec.Name, path, err)
		}
		if err := restoreDomain(&def, spec, uuid); err != nil {
			return fmt.Errorf("libvirt: restore %q from %s: %w", spec.Name, path, err)
		}
		desc, err := def.Marshal()
		if err != nil {
			return fmt.Errorf("libvirt: restore %q: marshal: %w", spec.Name, err)
		}
		head, err := img.head(desc)
		if err != nil {
			return fmt.Errorf("libvirt: restore %q: %w", spec.Name, err)
		}
		switch img.kind {
		case qemuImage:
			err = d.restoreStream(ctx, spec.Name, path, head, f, img)
		default:
			err = d.restoreSmall(ctx, spec.Name, path, head)
		}
		return err
	})
}

// restoreStream restores a QEMU image through a FIFO next to it, fed with
// the new header and the image's own migration stream.
func (d *Driver) restoreStream(ctx context.Context, name, path string, head []byte, f *os.File, img *saveImage) error {
	fifo := siblingName(path, "restore")
	feed, err := startFeeder(fifo, head, f, img.stream, img.size-img.stream)
	if err != nil {
		return fmt.Errorf("libvirt: restore %q: %w", name, err)
	}
	// Without data QEMU fails the incoming migration, and libvirt the
	// restore; there is no other way to interrupt a restore.
	stop := context.AfterFunc(ctx, feed.abort)
	err = d.restoreFile(name, fifo)
	stop()
	feedErr := feed.finish()
	switch {
	case err == nil:
		return nil
	case ctx.Err() != nil:
		return fmt.Errorf("libvirt: restore %q: %w (%v)", name, ctx.Err(), err)
	case feedErr != nil:
		return fmt.Errorf("%w (feeding %s: %v)", err, path, feedErr)
	}
	return err
}

// restoreSmall restores an image that holds nothing but the XML (the test
// driver's) from a rewritten copy.
func (d *Driver) restoreSmall(ctx context.Context, name, path string, head []byte) error {
	tmp := siblingName(path, "restore")
	if err := os.WriteFile(tmp, head, 0o600); err != nil {
		return fmt.Errorf("libvirt: restore %q: %w", name, err)
	}
	defer os.Remove(tmp)
	if err := ctx.Err(); err != nil {
		return err
	}
	return d.restoreFile(name, tmp)
}

func (d *Driver) restoreFile(name, file string) error {
	// RUNNING overrides a save of a paused guest; the test driver takes
	// no flags and always restores a running domain.
	err := withFallback(func(f lv.DomainSaveRestoreFlags) error { return d.conn.DomainRestoreFlags(file, "", f) },
		lv.DOMAIN_SAVE_RUNNING, 0)
	return mapError("restore", name, err)
}

// siblingName is a unique hidden name in path's folder: renames from it
// are atomic, and libvirtd, which reads path, can reach it.
func siblingName(path, what string) string {
	b := make([]byte, 6)
	_, _ = rand.Read(b)
	dir, base := filepath.Split(path)
	return filepath.Join(dir, fmt.Sprintf(".%s.%s-%s", base, what, hex.EncodeToString(b)))
}
