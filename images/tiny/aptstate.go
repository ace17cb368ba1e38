package tiny

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"sort"
)

// aptStatePaths are the files whose content decides which package
// versions apt picks: the downloaded lists, the sources and the pins.
var aptStatePaths = []string{
	"/var/lib/apt/lists/*",
	"/etc/apt/sources.list",
	"/etc/apt/sources.list.d/*",
	"/etc/apt/preferences",
	"/etc/apt/preferences.d/*",
}

// aptState fingerprints those files by name, size and mtime. Asking apt
// costs seconds; if none of them changed since the last build, apt would
// answer as it did then, and an unchanged image is recognised without
// running it. "" means there is nothing to go by.
func aptState() string {
	var lines []string
	lists := false
	for _, pattern := range aptStatePaths {
		matches, _ := filepath.Glob(pattern)
		for _, p := range matches {
			st, err := os.Stat(p)
			if err != nil || !st.Mode().IsRegular() || filepath.Base(p) == "lock" {
				continue
			}
			if filepath.Dir(pattern) == filepath.Dir(aptStatePaths[0]) {
				lists = true
			}
			lines = append(lines, fmt.Sprintf("%s %d %d", p, st.Size(), st.ModTime().UnixNano()))
		}
	}
	if !lists {
		return ""
	}
	sort.Strings(lines)
	h := sha256.New()
	for _, l := range lines {
		fmt.Fprintln(h, l)
	}
	return hex.EncodeToString(h.Sum(nil))
}
