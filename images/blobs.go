package images

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"kumo/internal/atomicfile"
	"kumo/internal/errs"
)

// Blobs is a content-addressed file store: a file's name is the SHA-256 of
// its bytes. Callers name files only by digest, never by path, so no input
// can reach outside the store, and a file under its final name is always
// complete (written to a temporary name, synced, then renamed).
type Blobs struct {
	dir string
}

var digestPattern = regexp.MustCompile(`^sha256:[0-9a-f]{64}$`)

// ValidDigest reports whether d is a well-formed blob digest.
func ValidDigest(d string) bool { return digestPattern.MatchString(d) }

func openBlobs(dir string) (*Blobs, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("blob store: %w", err)
	}
	return &Blobs{dir: dir}, nil
}

// Path returns the file holding digest, which must be well formed.
func (b *Blobs) Path(digest string) string {
	return filepath.Join(b.dir, strings.Replace(digest, ":", "-", 1))
}

// Has reports whether the blob exists.
func (b *Blobs) Has(digest string) bool {
	if !ValidDigest(digest) {
		return false
	}
	_, err := os.Stat(b.Path(digest))
	return err == nil
}

// Put stores what r yields, up to limit bytes, and returns its digest.
func (b *Blobs) Put(r io.Reader, limit int64) (digest string, size int64, err error) {
	tmp, err := os.CreateTemp(b.dir, ".incoming-*")
	if err != nil {
		return "", 0, fmt.Errorf("blob store: %w", err)
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	h := sha256.New()
	size, err = io.Copy(io.MultiWriter(tmp, h), io.LimitReader(r, limit+1))
	if err != nil {
		return "", 0, fmt.Errorf("blob store: write: %w", err)
	}
	if size > limit {
		return "", 0, errs.New(errs.LimitExceeded, "file is larger than the limit of %d bytes", limit)
	}
	if size == 0 {
		return "", 0, errs.New(errs.InvalidParameter, "file is empty")
	}
	if err = tmp.Sync(); err != nil {
		return "", 0, fmt.Errorf("blob store: sync: %w", err)
	}
	if err = tmp.Close(); err != nil {
		return "", 0, fmt.Errorf("blob store: close: %w", err)
	}
	// Blobs are shared by every image and instance disk built on them, so
	// nothing may write to one after it is stored.
	if err = os.Chmod(tmp.Name(), 0o444); err != nil {
		return "", 0, fmt.Errorf("blob store: %w", err)
	}
	digest = "sha256:" + hex.EncodeToString(h.Sum(nil))
	if err = os.Rename(tmp.Name(), b.Path(digest)); err != nil {
		return "", 0, fmt.Errorf("blob store: rename: %w", err)
	}
	return digest, size, atomicfile.SyncDir(b.dir)
}

// PutFile stores a copy of a local file the server itself produced.
func (b *Blobs) PutFile(path string) (string, int64, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", 0, fmt.Errorf("blob store: %w", err)
	}
	defer f.Close()
	return b.Put(f, 1<<62)
}

// Sweep removes every blob not in live, and leftovers of interrupted writes,
// last written before cutoff: a file uploaded a moment ago is not referenced
// yet because its image is being registered.
func (b *Blobs) Sweep(live map[string]bool, cutoff time.Time) (removed int, err error) {
	entries, err := os.ReadDir(b.dir)
	if err != nil {
		return 0, fmt.Errorf("blob store: %w", err)
	}
	for _, e := range entries {
		name := e.Name()
		digest := strings.Replace(name, "-", ":", 1)
		if live[digest] {
			continue
		}
		info, err := e.Info()
		if err != nil || info.ModTime().After(cutoff) {
			continue
		}
		if ValidDigest(digest) || strings.HasPrefix(name, ".incoming-") {
			if err := os.Remove(filepath.Join(b.dir, name)); err == nil {
				removed++
			}
		}
	}
	return removed, nil
}
