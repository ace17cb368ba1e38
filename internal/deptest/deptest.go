// Package deptest checks a package's imports against rules, so the
// direction of dependencies between kumo's packages is enforced by tests
// rather than remembered.
package deptest

import (
	"os/exec"
	"strings"
	"testing"
)

// Forbid fails the test if pkg depends, directly or not, on any package
// whose path starts with one of the prefixes; why says what the rule
// protects.
func Forbid(t *testing.T, pkg string, prefixes []string, why string) {
	t.Helper()
	out, err := exec.Command("go", "list", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v", pkg, err)
	}
	for _, dep := range strings.Fields(string(out)) {
		if dep == pkg {
			continue
		}
		for _, p := range prefixes {
			if dep == p || strings.HasPrefix(dep, p+"/") {
				t.Errorf("%s depends on %s: %s", pkg, dep, why)
			}
		}
	}
}
