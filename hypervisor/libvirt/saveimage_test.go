package libvirt

import (
	"bytes"
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fakeQEMUImage is laid out as libvirt 9.0 writes one: header, XML,
// cookie, 64 KiB of zeros, stream.
func fakeQEMUImage(t *testing.T, magic, xml, cookie string, stream []byte) string {
	t.Helper()
	data := append([]byte(xml), 0)
	h := qemuSaveHeader{Version: qemuSaveVersion, WasRunning: 1}
	copy(h.Magic[:], magic)
	if cookie != "" {
		h.CookieOffset = uint32(len(data))
		data = append(append(data, cookie...), 0)
	}
	data = append(data, make([]byte, 64<<10)...)
	h.DataLen = uint32(len(data))
	var buf bytes.Buffer
	binary.Write(&buf, binary.NativeEndian, h)
	buf.Write(data)
	buf.Write(stream)
	path := filepath.Join(t.TempDir(), "memory.save")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func openImage(t *testing.T, path string) (*saveImage, error) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	return readSaveImage(f)
}

func TestQEMUImageHeadRoundTrip(t *testing.T) {
	if qemuHeaderSize != 92 {
		t.Fatalf("header is %d bytes; libvirt's is 92", qemuHeaderSize)
	}
	stream := bytes.Repeat([]byte("QEVM stream "), 1000)
	path := fakeQEMUImage(t, qemuSaveMagic, "<domain><name>a</name></domain>", "<cookie/>\n", stream)
	img, err := openImage(t, path)
	if err != nil {
		t.Fatal(err)
	}
	if img.kind != qemuImage || img.xml != "<domain><name>a</name></domain>" || string(img.cookie) != "<cookie/>\n\x00" {
		t.Fatalf("read %+v", img)
	}
	file, _ := os.ReadFile(path)
	if !bytes.Equal(file[img.stream:], stream) {
		t.Fatalf("stream starts at %d, not where it was written", img.stream)
	}

	// A longer XML than the saved one: the copy must not need the padding.
	newXML := "<domain><name>" + strings.Repeat("b", 100<<10) + "</name></domain>"
	head, err := img.head(newXML)
	if err != nil {
		t.Fatal(err)
	}
	copyPath := filepath.Join(t.TempDir(), "copy.save")
	os.WriteFile(copyPath, append(head, stream...), 0o600)
	again, err := openImage(t, copyPath)
	if err != nil {
		t.Fatal(err)
	}
	if again.xml != newXML || !bytes.Equal(again.cookie, img.cookie) || again.header.WasRunning != 1 || again.stream != int64(len(head)) {
		t.Fatalf("copy reads back as kind %d, cookie %q, header %+v, stream at %d (head %d)",
			again.kind, again.cookie, again.header, again.stream, len(head))
	}
}

func TestQEMUImageWithoutCookie(t *testing.T) {
	img, err := openImage(t, fakeQEMUImage(t, qemuSaveMagic, "<domain/>", "", []byte("x")))
	if err != nil {
		t.Fatal(err)
	}
	if img.xml != "<domain/>" || img.cookie != nil {
		t.Fatalf("read xml %q cookie %q", img.xml, img.cookie)
	}
	head, _ := img.head("<domain/>")
	var h qemuSaveHeader
	binary.Read(bytes.NewReader(head), binary.NativeEndian, &h)
	if h.CookieOffset != 0 || int(h.DataLen) != len("<domain/>")+1 {
		t.Fatalf("head header %+v", h)
	}
}

func TestSaveImageRejects(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		os.WriteFile(p, b, 0o600)
		return p
	}
	full, _ := os.ReadFile(fakeQEMUImage(t, qemuSaveMagic, "<domain/>", "", []byte("stream")))
	newVersion := bytes.Clone(full)
	binary.NativeEndian.PutUint32(newVersion[16:], 3)
	sparse := bytes.Clone(full)
	binary.NativeEndian.PutUint32(sparse[28:], 6)
	for name, path := range map[string]string{
		"partial":     fakeQEMUImage(t, qemuSavePartial, "<domain/>", "", nil),
		"empty":       write("empty", nil),
		"text":        write("text", []byte("hello, world\n")),
		"truncated":   write("truncated", full[:200]),
		"new version": write("v3", newVersion),
		"sparse":      write("sparse", sparse),
		"test short":  write("testshort", []byte(testSaveMagic+"\x05\x00")),
		"folder":      dir,
	} {
		if img, err := openImage(t, path); err == nil {
			t.Errorf("%s: read as %+v", name, img)
		}
	}
}

func TestTestImageRoundTrip(t *testing.T) {
	img := &saveImage{kind: testImage}
	head, err := img.head("<domain type='test'/>")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "test.save")
	os.WriteFile(path, head, 0o600)
	got, err := openImage(t, path)
	if err != nil || got.kind != testImage || got.xml != "<domain type='test'/>" {
		t.Fatalf("read %+v, %v", got, err)
	}
	if _, err := img.head(strings.Repeat("x", testSaveMaxXML+1)); err == nil {
		t.Fatal("head accepted XML the test driver cannot read back")
	}
}
