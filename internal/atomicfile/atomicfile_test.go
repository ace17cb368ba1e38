package atomicfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"
)

func TestWriteReplacesOrKeeps(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	if err := WriteBytes(path, 0o640, []byte("one")); err != nil {
		t.Fatal(err)
	}
	failed := errors.New("disk full")
	err := Write(path, 0o640, func(w io.Writer) error {
		w.Write([]byte("half of tw"))
		return failed
	})
	if !errors.Is(err, failed) {
		t.Fatalf("err = %v", err)
	}
	got, _ := os.ReadFile(path)
	fi, _ := os.Stat(path)
	if string(got) != "one" || fi.Mode().Perm() != 0o640 {
		t.Fatalf("after a failed write: %q %v", got, fi.Mode())
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Fatalf("temporary files left: %d entries", len(entries))
	}
	src := filepath.Join(dir, "made-by-a-tool")
	os.WriteFile(src, []byte("two"), 0o644)
	if err := Install(src, path); err != nil {
		t.Fatal(err)
	}
	if got, _ := os.ReadFile(path); string(got) != "two" {
		t.Fatalf("after Install: %q", got)
	}
}
