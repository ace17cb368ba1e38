package tiny

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"strings"
	"testing"
)

func TestLZ4Block(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		// "abcd", then 8 bytes from 4 back, then literals only.
		{"match", []byte{0x44, 'a', 'b', 'c', 'd', 4, 0, 0x30, 'x', 'y', 'z'}, "abcdabcdabcdxyz"},
		// One literal repeated by an overlapping match of 15+1+4 bytes.
		{"overlap", []byte{0x1f, 'a', 1, 0, 1, 0x10, 'b'}, strings.Repeat("a", 21) + "b"},
		// 15+5 literals, length in an extra byte.
		{"long literals", append([]byte{0xf0, 5}, []byte("01234567890123456789")...), "01234567890123456789"},
	} {
		got, err := lz4Block(nil, tc.in)
		if err != nil || string(got) != tc.want {
			t.Errorf("%s: got %q, %v; want %q", tc.name, got, err, tc.want)
		}
	}
	for name, bad := range map[string][]byte{
		"offset before start": {0x10, 'a', 5, 0},
		"zero offset":         {0x10, 'a', 0, 0},
		"literals past end":   {0x50, 'a'},
		"truncated offset":    {0x10, 'a', 1},
	} {
		if _, err := lz4Block(nil, bad); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

func le32(n int) []byte { return binary.LittleEndian.AppendUint32(nil, uint32(n)) }

func TestUnLZ4Legacy(t *testing.T) {
	b1 := []byte{0x44, 'a', 'b', 'c', 'd', 4, 0, 0x30, 'x', 'y', 'z'} // abcdabcdabcdxyz
	// The second block copies from the first one's output, as legacy
	// frames allow.
	b2 := []byte{0x00, 15, 0, 0x10, '!'} // abcd!
	var src []byte
	src = append(src, lz4LegacyMagic...)
	src = append(append(src, le32(len(b1))...), b1...)
	src = append(append(src, le32(len(b2))...), b2...)
	src = append(src, le32(20)...) // the size trailer of the kernel build
	got, err := unlz4Legacy(src)
	if err != nil || string(got) != "abcdabcdabcdxyzabcd!" {
		t.Fatalf("got %q, %v", got, err)
	}
	src[len(src)-4] = 21
	if _, err := unlz4Legacy(src); err == nil {
		t.Fatal("wrong size trailer accepted")
	}
}

// fakeBzImage wraps a payload in just enough of a bzImage for
// bzImagePayload.
func fakeBzImage(payload []byte) []byte {
	b := make([]byte, 1024+16)
	b[0x1f1] = 1 // setup sectors: the kernel proper starts at 1024
	copy(b[0x202:], "HdrS")
	binary.LittleEndian.PutUint16(b[0x206:], 0x020f)
	binary.LittleEndian.PutUint32(b[0x248:], 16)
	binary.LittleEndian.PutUint32(b[0x24c:], uint32(len(payload)))
	return append(b, payload...)
}

// fakeELF is an x86-64 ELF with one PT_NOTE segment holding a Xen note
// of the given type.
func fakeELF(noteType uint32) []byte {
	var note []byte
	note = binary.LittleEndian.AppendUint32(note, 4) // namesz
	note = binary.LittleEndian.AppendUint32(note, 4) // descsz
	note = binary.LittleEndian.AppendUint32(note, noteType)
	note = append(note, "Xen\x00"...)
	note = append(note, 0, 0, 0, 1)
	var b []byte
	b = append(b, 0x7f, 'E', 'L', 'F', 2, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0)
	le16 := func(v uint16) { b = binary.LittleEndian.AppendUint16(b, v) }
	le32 := func(v uint32) { b = binary.LittleEndian.AppendUint32(b, v) }
	le64 := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	le16(2)  // ET_EXEC
	le16(62) // EM_X86_64
	le32(1)
	le64(0)  // entry
	le64(64) // phoff
	le64(0)  // shoff
	le32(0)
	le16(64) // ehsize
	le16(56) // phentsize
	le16(1)  // phnum
	le16(64) // shentsize
	le16(0)
	le16(0)
	le32(4) // PT_NOTE
	le32(4)
	le64(120) // offset
	le64(0)
	le64(0)
	le64(uint64(len(note)))
	le64(uint64(len(note)))
	le64(4)
	return append(b, note...)
}

func gz(b []byte) []byte {
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	zw.Write(b)
	zw.Close()
	return buf.Bytes()
}

func TestPVHKernel(t *testing.T) {
	elfPVH := fakeELF(18)
	got, ok, why, err := pvhKernel(fakeBzImage(gz(elfPVH)))
	if err != nil || !ok || !bytes.Equal(got, elfPVH) {
		t.Fatalf("PVH kernel: ok %v, why %q, err %v", ok, why, err)
	}
	// Without the PVH entry note, or compressed some other way, the
	// bzImage is booted as it is.
	if _, ok, why, err := pvhKernel(fakeBzImage(gz(fakeELF(17)))); err != nil || ok || why == "" {
		t.Errorf("no PVH note: ok %v, why %q, err %v", ok, why, err)
	}
	if _, ok, why, err := pvhKernel(fakeBzImage([]byte{0xfd, '7', 'z', 'X', 'Z', 0})); err != nil || ok || why == "" {
		t.Errorf("xz: ok %v, why %q, err %v", ok, why, err)
	}
	if _, _, _, err := pvhKernel([]byte("not a kernel")); err == nil {
		t.Error("garbage accepted")
	}
	if _, _, _, err := pvhKernel(fakeBzImage(gz([]byte("not an ELF")))); err == nil {
		t.Error("a payload that is not an ELF accepted")
	}
}
