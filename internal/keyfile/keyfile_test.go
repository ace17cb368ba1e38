package keyfile

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestKeyFiles(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "k.key")
	if _, err := Read(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("no file: %v", err)
	}
	key, err := Create(path)
	if err != nil || len(key) != Size {
		t.Fatalf("Create: %d bytes, %v", len(key), err)
	}
	if info, _ := os.Stat(path); info.Mode().Perm() != 0o600 {
		t.Fatalf("mode %04o", info.Mode().Perm())
	}
	again, err := Read(path)
	if err != nil || !bytes.Equal(again, key) {
		t.Fatalf("Read: %x, %v; want %x", again, err, key)
	}
	refusals := []struct {
		name, contents string
		mode           os.FileMode
		want           string
	}{
		{"readable by others", strings.Repeat("ab", 32) + "\n", 0o644, "open to other users"},
		{"too short", "abcd\n", 0o600, "not 64 hexadecimal digits"},
		{"not hex", strings.Repeat("zz", 32), 0o600, "not 64 hexadecimal digits"},
	}
	for _, r := range refusals {
		p := filepath.Join(dir, strings.ReplaceAll(r.name, " ", "-"))
		os.WriteFile(p, []byte(r.contents), r.mode)
		os.Chmod(p, r.mode)
		if _, err := Read(p); err == nil || !strings.Contains(err.Error(), r.want) {
			t.Errorf("%s: %v, want %q", r.name, err, r.want)
		}
	}
	if _, err := Read(dir); err == nil || !strings.Contains(err.Error(), "not a regular file") {
		t.Errorf("a directory: %v", err)
	}
}
