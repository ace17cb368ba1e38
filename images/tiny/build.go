package tiny

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"kumo/internal/atomicfile"
)

// Artifacts are the files of a built image, as absolute paths inside the
// output folder.
type Artifacts struct {
	Kernel string // for direct kernel boot: an ELF vmlinux with a PVH entry, or a bzImage
	Initrd string // gzip-compressed newc cpio
	Disk   string // qcow2 root disk, mounted by the guest at /data
	// Digest identifies the inputs the files were built from; equal
	// digests mean equal images.
	Digest string
}

// Cmdline is the part of the kernel command line the image wants; the
// control plane appends the kumo.* keys of the instance. Only
// console=ttyS0 is needed for the console log; the rest is boot time
// under TCG, measured on this image:
//   - quiet: the kernel's boot log through the emulated UART;
//   - tsc=reliable no_timer_check: clock checks that cannot pass under
//     emulation anyway;
//   - cryptomgr.notests: crypto self-tests, about 1 s;
//   - mitigations=off: about 0.3 s of patching kernel text, which TCG
//     makes expensive; the guest runs everything as root, so there is
//     no user to protect from another;
//   - initcall_blacklist: a KDF self-test and the kprobe tracing
//     interface, about 0.1 s together; nothing in the guest uses them.
const Cmdline = "console=ttyS0 init_on_free=1 quiet tsc=reliable no_timer_check cryptomgr.notests mitigations=off" +
	" initcall_blacklist=crypto_kdf108_init,init_kprobe_trace"

// File names inside the output folder.
const (
	kernelFile   = "vmlinux" // uncompressed, booted through PVH
	bzImageFile  = "vmlinuz" // when the kernel cannot be booted through PVH
	initrdFile   = "initrd.gz"
	diskFile     = "root.qcow2"
	manifestFile = "manifest.json"
	cacheDir     = "cache"
)

// resolve is resolvePackages, replaceable so that tests of the skip logic
// need no apt.
var resolve = resolvePackages

// Build makes the kumo-tiny image in outDir, or returns at once if outDir
// already holds an image built from the same inputs. progress receives
// one line per stage; it may be nil.
//
// Builds of the same outDir, in this process or another, run one at a
// time.
func Build(ctx context.Context, outDir string, progress io.Writer) (Artifacts, error) {
	if progress == nil {
		progress = io.Discard
	}
	outDir, err := filepath.Abs(outDir)
	if err != nil {
		return Artifacts{}, err
	}
	if err := os.MkdirAll(outDir, 0o755); err != nil {
		return Artifacts{}, err
	}
	unlock, err := lockDir(ctx, outDir)
	if err != nil {
		return Artifacts{}, err
	}
	defer unlock()

	updated := false
	aptUpdate := func(why error) error {
		updated = true
		s := begin(progress, "apt-get update (%v)", why)
		if _, err := apt(ctx, "", "apt-get", "update", "-q"); err != nil {
			return err
		}
		s.done()
		return nil
	}

	// Asking apt costs seconds. If its lists, sources and pins are as
	// they were at the last build, it would pick the same packages, and
	// the ones in the manifest are used instead.
	var kernel, busybox deb
	state := aptState()
	known := false
	if m, ok := readManifest(outDir); ok && state != "" && m.AptState == state {
		kernel, busybox, known = m.Kernel, m.Busybox, true
	}
	for {
		if !known {
			// Taken before asking apt, so that lists changing in between
			// make the next build ask again rather than trust a stale
			// answer.
			state = aptState()
			var err error
			s := begin(progress, "asking apt for %s and %s", kernelMetaPackage, busyboxPackage)
			kernel, busybox, err = resolve(ctx)
			if err == nil {
				s.done()
			}
			if errors.Is(err, errNoCandidate) && !updated {
				if err = aptUpdate(err); err == nil {
					continue
				}
			}
			if err != nil {
				// Offline, or apt is broken: the packages of the last
				// build are still in the cache, which is enough to keep
				// the image as it was or to rebuild it after a change of
				// this code.
				m, ok := readManifest(outDir)
				if !ok {
					return Artifacts{}, err
				}
				fmt.Fprintf(progress, "cannot ask apt for packages (%v); staying with %s %s and %s %s\n",
					err, m.Kernel.Name, m.Kernel.Version, m.Busybox.Name, m.Busybox.Version)
				kernel, busybox, state = m.Kernel, m.Busybox, ""
				updated = true
			}
		}
		digest, err := computeDigest(kernel, busybox)
		if err != nil {
			return Artifacts{}, err
		}
		if m, ok := readManifest(outDir); ok && m.Digest == digest && m.complete(outDir) {
			how := ""
			if known {
				how = "; apt lists unchanged"
			}
			fmt.Fprintf(progress, "kumo-tiny %s is up to date (%s %s%s)\n", short(digest), kernel.Name, kernel.Version, how)
			if m.AptState != state {
				m.AptState = state
				m.write(outDir) // only speeds up the next check; failing it loses nothing
			}
			return m.artifacts(outDir), nil
		}
		a, err := build(ctx, outDir, kernel, busybox, digest, state, progress)
		var de downloadError
		if errors.As(err, &de) && !updated {
			// Lists older than the archive name files it has dropped, or
			// the cache lost a package the manifest names: ask apt afresh.
			if err := aptUpdate(err); err != nil {
				return Artifacts{}, err
			}
			known = false
			continue
		}
		return a, err
	}
}

// downloadError marks a failed download, which a fresh package list may
// cure.
type downloadError struct{ error }

func (e downloadError) Unwrap() error { return e.error }

func build(ctx context.Context, outDir string, kernel, busybox deb, digest, aptState string, progress io.Writer) (Artifacts, error) {
	start := time.Now()
	fmt.Fprintf(progress, "building kumo-tiny %s from %s %s and %s %s\n",
		short(digest), kernel.Name, kernel.Version, busybox.Name, busybox.Version)
	debs := filepath.Join(outDir, cacheDir, "debs")
	unpacked := filepath.Join(outDir, cacheDir, "unpacked")

	roots := map[string]string{}
	for _, d := range []deb{kernel, busybox} {
		p, err := fetchDeb(ctx, debs, d, progress)
		if err != nil {
			return Artifacts{}, downloadError{err}
		}
		if roots[d.Name], err = extractDeb(ctx, unpacked, p, d, progress); err != nil {
			return Artifacts{}, err
		}
	}
	k := kernelTree{root: roots[kernel.Name], release: strings.TrimPrefix(kernel.Name, "linux-image-")}
	if err := k.checkConfig(); err != nil {
		return Artifacts{}, err
	}

	// From here on the files change one by one; without a manifest none
	// of them is taken for a finished image until all are.
	if err := os.Remove(filepath.Join(outDir, manifestFile)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return Artifacts{}, err
	}

	s := begin(progress, "preparing kernel %s", k.release)
	kernelName, err := writeKernel(outDir, k, progress)
	if err != nil {
		return Artifacts{}, err
	}
	s.done()

	s = begin(progress, "building initramfs")
	in, err := readInitramfsInputs(ctx, roots[busybox.Name], k)
	if err != nil {
		return Artifacts{}, err
	}
	if err := atomicfile.Write(filepath.Join(outDir, initrdFile), 0o644, func(w io.Writer) error {
		return writeInitramfs(w, in)
	}); err != nil {
		return Artifacts{}, err
	}
	s.done()

	s = begin(progress, "building root disk (%d MiB ext4, qcow2)", rootDiskMiB)
	if err := writeRootDisk(ctx, filepath.Join(outDir, diskFile), digest); err != nil {
		return Artifacts{}, err
	}
	s.done()

	m := manifest{
		Digest: digest, BuildVersion: buildVersion,
		Kernel: kernel, Busybox: busybox, KernelRelease: k.release, AptState: aptState,
		KernelFile: kernelName, InitrdFile: initrdFile, DiskFile: diskFile,
		BuiltAt: time.Now().UTC().Truncate(time.Second),
	}
	if err := m.write(outDir); err != nil {
		return Artifacts{}, err
	}
	pruneCache(debs, unpacked, kernel, busybox)
	fmt.Fprintf(progress, "built kumo-tiny %s in %s\n", short(digest), time.Since(start).Round(time.Millisecond))
	return m.artifacts(outDir), nil
}

// writeKernel puts the kernel in outDir, unpacked for PVH boot when it
// can be, and returns its file name.
func writeKernel(outDir string, k kernelTree, progress io.Writer) (string, error) {
	bz, err := os.ReadFile(k.vmlinuz())
	if err != nil {
		return "", err
	}
	data, pvh, why, err := pvhKernel(bz)
	if err != nil {
		return "", err
	}
	name, stale := kernelFile, bzImageFile
	if !pvh {
		// Slower to boot but still correct.
		fmt.Fprintf(progress, "booting the bzImage as it is: %s\n", why)
		data, name, stale = bz, bzImageFile, kernelFile
	}
	if err := atomicfile.Write(filepath.Join(outDir, name), 0o644, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	}); err != nil {
		return "", err
	}
	os.Remove(filepath.Join(outDir, stale))
	return name, nil
}

// pruneCache drops packages and unpacked trees of earlier versions, so
// that kernel updates do not pile up 100 MiB each.
func pruneCache(debs, unpacked string, keep ...deb) {
	names := map[string]bool{}
	for _, d := range keep {
		names[d.fileName()] = true
		names[strings.TrimSuffix(d.fileName(), ".deb")] = true
	}
	for _, dir := range []string{debs, unpacked} {
		entries, _ := os.ReadDir(dir)
		for _, e := range entries {
			if !names[e.Name()] {
				os.RemoveAll(filepath.Join(dir, e.Name()))
			}
		}
	}
}

// lockDir takes an exclusive lock on outDir for one build. flock is
// released by the kernel if the process dies, so a crashed build never
// leaves the folder locked.
func lockDir(ctx context.Context, dir string) (func(), error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return nil, err
	}
	for {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return func() { f.Close() }, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			f.Close()
			return nil, fmt.Errorf("lock %s: %w", dir, err)
		}
		select {
		case <-ctx.Done():
			f.Close()
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func short(digest string) string {
	if len(digest) > 12 {
		return digest[:12]
	}
	return digest
}
