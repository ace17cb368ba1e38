package ids

import "testing"

func TestValid(t *testing.T) {
	for _, tc := range []struct {
		prefix, id string
		ok         bool
	}{
		{"i", "i-0123456789abcdef0", true},
		{"i", "i-0123456789ABCDEF0", false},
		{"i", "i-0123456789abcdef", false},
		{"i", "i-0123456789abcdef01", false},
		{"i", "ami-0123456789abcde", false},
		{"ami", "ami-0123456789abcdef0", true},
		{"ami", "ami-../../etc/passwd", false},
		{"i", "", false},
	} {
		if got := Valid(tc.prefix, tc.id); got != tc.ok {
			t.Errorf("Valid(%q, %q) = %v, want %v", tc.prefix, tc.id, got, tc.ok)
		}
	}
	for i := 0; i < 100; i++ {
		if id := New("i"); !Valid("i", id) {
			t.Fatalf("New made an invalid id %q", id)
		}
	}
}
