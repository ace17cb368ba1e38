package tiny

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"

	"kumo/internal/atomicfile"
)

// Packages the image is made of. The kernel is named through Debian's
// metapackage so that a security update of the archive is picked up by
// the next build; the versioned package it depends on is what gets
// downloaded, since the metapackage itself holds no files.
const (
	kernelMetaPackage = "linux-image-cloud-amd64"
	busyboxPackage    = "busybox-static"
)

// deb is one binary package as the archive describes it.
type deb struct {
	Name    string `json:"name"`
	Version string `json:"version"`
	SHA256  string `json:"sha256"`
}

// fileName is how the package is kept in the cache. The version goes in
// so that an update never reuses the file of the one before.
func (d deb) fileName() string {
	v := strings.NewReplacer(":", "%3a", "/", "_").Replace(d.Version)
	return d.Name + "_" + v + "_amd64.deb"
}

// errNoCandidate means apt knows no installable version, which is what
// missing or stale package lists look like.
var errNoCandidate = errors.New("no candidate version")

// apt runs apt tools with output that does not depend on the host's
// locale.
func apt(ctx context.Context, dir string, args ...string) ([]byte, error) {
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANG=C", "DEBIAN_FRONTEND=noninteractive")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return out, fmt.Errorf("%s: %v: %s", strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return out, nil
}

// resolvePackages asks apt which kernel and busybox builds the next image
// is made of, without downloading anything. Each apt call costs most of a
// second (the package cache is rebuilt from the lists every time on hosts
// that disable apt's cache files), hence two calls and not one per field.
func resolvePackages(ctx context.Context) (kernel, busybox deb, err error) {
	out, err := apt(ctx, "", "apt-cache", "depends", kernelMetaPackage)
	if err != nil {
		if strings.Contains(err.Error(), "No packages found") || strings.Contains(err.Error(), "Unable to locate") {
			return deb{}, deb{}, fmt.Errorf("%s: %w", kernelMetaPackage, errNoCandidate)
		}
		return deb{}, deb{}, err
	}
	name := kernelFromDepends(out)
	if name == "" {
		return deb{}, deb{}, fmt.Errorf("%s: no linux-image dependency in %q: %w", kernelMetaPackage, out, errNoCandidate)
	}
	out, err = apt(ctx, "", "apt-get", "download", "--print-uris", "-q", name, busyboxPackage)
	if err != nil {
		if strings.Contains(err.Error(), "no installation candidate") || strings.Contains(err.Error(), "Unable to locate") {
			return deb{}, deb{}, fmt.Errorf("%s: %w", err, errNoCandidate)
		}
		return deb{}, deb{}, err
	}
	debs, err := parsePrintURIs(out)
	if err != nil {
		return deb{}, deb{}, err
	}
	var ok1, ok2 bool
	kernel, ok1 = debs[name]
	busybox, ok2 = debs[busyboxPackage]
	if !ok1 || !ok2 {
		return deb{}, deb{}, fmt.Errorf("apt-get download --print-uris %s %s: got %v: %w", name, busyboxPackage, debs, errNoCandidate)
	}
	return kernel, busybox, nil
}

// kernelFromDepends picks the versioned kernel package out of
// apt-cache depends output for the metapackage.
func kernelFromDepends(out []byte) string {
	for _, line := range strings.Split(string(out), "\n") {
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "|")
		if dep, ok := strings.CutPrefix(line, "Depends:"); ok {
			dep = strings.TrimSpace(dep)
			if strings.HasPrefix(dep, "linux-image-") && !strings.HasPrefix(dep, "<") {
				return dep
			}
		}
	}
	return ""
}

// parsePrintURIs reads apt-get --print-uris lines:
//
//	'URI' NAME_VERSION_ARCH.deb SIZE SHA256:HEX
//
// where the version in the file name is URL-escaped (":" is "%3a").
func parsePrintURIs(out []byte) (map[string]deb, error) {
	debs := map[string]deb{}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) < 4 || !strings.HasPrefix(f[0], "'") {
			continue
		}
		parts := strings.Split(strings.TrimSuffix(f[1], ".deb"), "_")
		if len(parts) != 3 {
			return nil, fmt.Errorf("print-uris: cannot read file name %q", f[1])
		}
		version, err := url.PathUnescape(parts[1])
		if err != nil {
			return nil, fmt.Errorf("print-uris: version in %q: %v", f[1], err)
		}
		sum, ok := strings.CutPrefix(f[3], "SHA256:")
		if !ok || len(sum) != 64 {
			return nil, fmt.Errorf("print-uris: no SHA256 for %s (%q)", f[1], f[3])
		}
		debs[parts[0]] = deb{Name: parts[0], Version: version, SHA256: strings.ToLower(sum)}
	}
	return debs, nil
}

// fetchDeb returns the path of the package in the cache, downloading it
// first if the cache lacks it or holds a file that is not the one the
// archive describes.
func fetchDeb(ctx context.Context, dir string, d deb, progress io.Writer) (string, error) {
	path := filepath.Join(dir, d.fileName())
	if sum, err := fileSHA256(path); err == nil && sum == d.SHA256 {
		return path, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	// apt-get download names the file itself; a private folder lets us
	// find it and keeps a half-written file out of the cache.
	tmp, err := os.MkdirTemp(dir, ".download-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(tmp)
	// The _apt user cannot write here; apt then downloads as root and
	// says so on stderr, which is harmless.
	os.Chmod(tmp, 0o755)
	step := begin(progress, "downloading %s %s", d.Name, d.Version)
	if _, err := apt(ctx, tmp, "apt-get", "download", "-q", d.Name+"="+d.Version); err != nil {
		return "", err
	}
	matches, _ := filepath.Glob(filepath.Join(tmp, "*.deb"))
	if len(matches) != 1 {
		return "", fmt.Errorf("apt-get download %s=%s left %d .deb files", d.Name, d.Version, len(matches))
	}
	sum, err := fileSHA256(matches[0])
	if err != nil {
		return "", err
	}
	if sum != d.SHA256 {
		return "", fmt.Errorf("%s: sha256 %s, archive says %s", d.fileName(), sum, d.SHA256)
	}
	if err := atomicfile.Install(matches[0], path); err != nil {
		return "", err
	}
	step.done()
	return path, nil
}

// extractDeb unpacks a package into dir/<name>_<version> with dpkg-deb -x,
// which only writes files: nothing is installed on the host, so a kernel
// package cannot touch /boot or run its maintainer scripts.
func extractDeb(ctx context.Context, dir, debPath string, d deb, progress io.Writer) (string, error) {
	root := filepath.Join(dir, strings.TrimSuffix(d.fileName(), ".deb"))
	if _, err := os.Stat(filepath.Join(root, ".complete")); err == nil {
		return root, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	step := begin(progress, "unpacking %s %s", d.Name, d.Version)
	os.RemoveAll(root)
	tmp := root + ".tmp"
	os.RemoveAll(tmp)
	if out, err := exec.CommandContext(ctx, "dpkg-deb", "-x", debPath, tmp).CombinedOutput(); err != nil {
		os.RemoveAll(tmp)
		return "", fmt.Errorf("dpkg-deb -x %s: %v: %s", debPath, err, bytes.TrimSpace(out))
	}
	if err := os.WriteFile(filepath.Join(tmp, ".complete"), nil, 0o644); err != nil {
		return "", err
	}
	if err := os.Rename(tmp, root); err != nil {
		return "", err
	}
	step.done()
	return root, nil
}

func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
