package sigv4

import (
	"bytes"
	"io"
	"testing"
)

// BenchmarkVerify verifies one header-signed EC2 request, the path every
// API call takes.
func BenchmarkVerify(b *testing.B) {
	r := signHeader(b, signing{})
	body := []byte(form)
	for b.Loop() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		if _, err := Verify(r, body, t0, keys); err != nil {
			b.Fatal(err)
		}
	}
}
