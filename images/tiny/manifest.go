package tiny

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"kumo/internal/atomicfile"
)

// buildVersion changes whenever this package starts making different
// files from the same packages and guest scripts, so that images built by
// the old code are rebuilt.
const buildVersion = 4

// manifest records what the files in the output folder were built from.
// It is written last, so its presence means the build finished.
type manifest struct {
	Digest        string `json:"digest"`
	BuildVersion  int    `json:"build_version"`
	Kernel        deb    `json:"kernel"`
	Busybox       deb    `json:"busybox"`
	KernelRelease string `json:"kernel_release"`
	// AptState is aptState() when the packages were resolved.
	AptState   string    `json:"apt_state,omitempty"`
	KernelFile string    `json:"kernel_file"`
	InitrdFile string    `json:"initrd_file"`
	DiskFile   string    `json:"disk_file"`
	BuiltAt    time.Time `json:"built_at"`
}

// computeDigest hashes everything the image is made of: the exact
// packages (by archive checksum), the guest scripts, the module list and
// the version of this code.
func computeDigest(kernel, busybox deb) (string, error) {
	h := sha256.New()
	fmt.Fprintf(h, "kumo-tiny build %d\n", buildVersion)
	for _, d := range []deb{kernel, busybox} {
		fmt.Fprintf(h, "deb %s %s %s\n", d.Name, d.Version, d.SHA256)
	}
	fmt.Fprintf(h, "modules %s\n", strings.Join(modules, ","))
	fmt.Fprintf(h, "rootdisk %d MiB\n", rootDiskMiB)
	g, err := guestDigestInput()
	if err != nil {
		return "", err
	}
	h.Write(g)
	return hex.EncodeToString(h.Sum(nil)), nil
}

func readManifest(dir string) (manifest, bool) {
	data, err := os.ReadFile(filepath.Join(dir, manifestFile))
	if err != nil {
		return manifest{}, false
	}
	var m manifest
	if err := json.Unmarshal(data, &m); err != nil || m.Digest == "" {
		return manifest{}, false
	}
	return m, true
}

func (m manifest) write(dir string) error {
	data, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return err
	}
	return atomicfile.Write(filepath.Join(dir, manifestFile), 0o644, func(w io.Writer) error {
		_, err := w.Write(append(data, '\n'))
		return err
	})
}

// complete says whether every file the manifest names is there. A file
// deleted by hand, or a manifest from a build of other files, means
// rebuilding.
func (m manifest) complete(dir string) bool {
	for _, f := range []string{m.KernelFile, m.InitrdFile, m.DiskFile} {
		if f == "" || filepath.Base(f) != f {
			return false
		}
		st, err := os.Stat(filepath.Join(dir, f))
		if err != nil || !st.Mode().IsRegular() || st.Size() == 0 {
			return false
		}
	}
	return true
}

func (m manifest) artifacts(dir string) Artifacts {
	return Artifacts{
		Kernel: filepath.Join(dir, m.KernelFile),
		Initrd: filepath.Join(dir, m.InitrdFile),
		Disk:   filepath.Join(dir, m.DiskFile),
		Digest: m.Digest,
	}
}
