// Package ids makes and checks EC2-style resource ids: a prefix, a dash and
// 17 lowercase hex digits ("i-0123456789abcdef0").
package ids

import (
	"crypto/rand"
	"encoding/hex"
)

const hexDigits = 17

// New returns a fresh random id with prefix ("i", "ami").
func New(prefix string) string {
	var b [9]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic("ids: crypto/rand failed: " + err.Error())
	}
	return prefix + "-" + hex.EncodeToString(b[:])[:hexDigits]
}

// Valid reports whether s is a well-formed id with prefix.
func Valid(prefix, s string) bool {
	if len(s) != len(prefix)+1+hexDigits || s[:len(prefix)] != prefix || s[len(prefix)] != '-' {
		return false
	}
	for _, c := range s[len(prefix)+1:] {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}
