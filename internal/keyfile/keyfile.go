// Package keyfile keeps 256-bit secret keys in files of their own: 64
// hexadecimal digits and a newline, mode 0600, written atomically. A key
// file that other users may read is refused rather than used: whoever can
// read it holds what it protects.
package keyfile

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"

	"kumo/internal/atomicfile"
)

// Size is a key's length in bytes.
const Size = 32

// Read returns the key in path; an error wrapping fs.ErrNotExist when
// there is none.
func Read(path string) ([]byte, error) {
	info, err := os.Stat(path)
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%s is open to other users (mode %04o); make it 0600", path, perm)
	}
	text, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	key, err := hex.DecodeString(strings.TrimSpace(string(text)))
	if err != nil || len(key) != Size {
		return nil, errors.New(path + " is not 64 hexadecimal digits")
	}
	return key, nil
}

// Create makes a new random key in path and returns it.
func Create(path string) ([]byte, error) {
	key := make([]byte, Size)
	rand.Read(key)
	if err := atomicfile.WriteBytes(path, 0o600, []byte(hex.EncodeToString(key)+"\n")); err != nil {
		return nil, err
	}
	return key, nil
}
