package libvirt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// A save image is the file virDomainSaveFlags writes: the domain XML,
// then (for QEMU) the guest's memory and device state. kumo restores one
// image into many domains, each with its own UUID, and libvirt refuses a
// replacement XML whose UUID differs from the saved one (it counts the
// UUID as guest ABI). So the driver reads the image itself and hands
// libvirt a copy whose header already carries the rewritten XML. That
// ties it to two private file formats, which libvirt keeps stable because
// old images must stay restorable; both are checked strictly here so that
// a format change fails loudly instead of restoring garbage.

type imageKind int

const (
	// qemuImage is written by libvirt's QEMU driver: a fixed header, the
	// XML and a cookie, padding, then QEMU's migration stream.
	qemuImage imageKind = iota + 1
	// testImage is written by libvirt's test driver: the XML alone.
	testImage
)

// The QEMU driver's header, src/qemu/qemu_saveimage.h, in host byte order.
const (
	qemuSaveMagic   = "LibvirtQemudSave"
	qemuSavePartial = "LibvirtQemudPart" // the save did not complete
	qemuSaveVersion = 2
	// Formats from 6 on (mapped-ram "sparse") are read with seeks, which a
	// pipe cannot serve; 1-5 are compressors libvirt pipes through.
	qemuMaxStreamFormat = 5
)

type qemuSaveHeader struct {
	Magic        [16]byte
	Version      uint32
	DataLen      uint32 // XML, cookie and padding that follow the header
	WasRunning   uint32
	Format       uint32 // compression; 0 is raw
	CookieOffset uint32 // from the start of the data; 0 when no cookie
	Unused       [14]uint32
}

var qemuHeaderSize = binary.Size(qemuSaveHeader{})

// The test driver's layout, src/test/test_driver.c: the magic with its
// NUL, an int length, the XML. It reads at most 8 KiB of XML back.
const (
	testSaveMagic  = "TestGuestMagic\x00"
	testSaveMaxXML = 8192
)

type saveImage struct {
	kind imageKind
	xml  string
	// QEMU images only.
	header qemuSaveHeader
	cookie []byte // NUL-terminated as libvirt wrote it, or nil
	stream int64  // offset of QEMU's migration stream
	size   int64
}

func readSaveImage(f *os.File) (*saveImage, error) {
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", f.Name())
	}
	head := make([]byte, qemuHeaderSize)
	n, err := io.ReadFull(f, head)
	if err != nil && !errors.Is(err, io.ErrUnexpectedEOF) {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, []byte(qemuSaveMagic)):
		return readQEMUImage(f, head, st.Size())
	case bytes.HasPrefix(head, []byte(qemuSavePartial)):
		return nil, fmt.Errorf("%s is an incomplete save image (the save failed or is still running)", f.Name())
	case bytes.HasPrefix(head, []byte(testSaveMagic)):
		return readTestImage(f)
	}
	return nil, fmt.Errorf("%s is not a libvirt save image", f.Name())
}

func readQEMUImage(f *os.File, head []byte, size int64) (*saveImage, error) {
	img := &saveImage{kind: qemuImage, size: size}
	if len(head) < qemuHeaderSize {
		return nil, fmt.Errorf("%s: save image header is truncated", f.Name())
	}
	if err := binary.Read(bytes.NewReader(head), binary.NativeEndian, &img.header); err != nil {
		return nil, err
	}
	h := &img.header
	if h.Version != qemuSaveVersion {
		return nil, fmt.Errorf("%s: save image version %d, want %d (or written on a host of other byte order)", f.Name(), h.Version, qemuSaveVersion)
	}
	if h.Format > qemuMaxStreamFormat {
		return nil, fmt.Errorf("%s: save image format %d cannot be streamed", f.Name(), h.Format)
	}
	img.stream = int64(qemuHeaderSize) + int64(h.DataLen)
	if h.DataLen == 0 || img.stream > size || h.CookieOffset > h.DataLen {
		return nil, fmt.Errorf("%s: save image header is inconsistent (data %d, cookie at %d, file %d bytes)", f.Name(), h.DataLen, h.CookieOffset, size)
	}
	data := make([]byte, h.DataLen)
	if _, err := f.ReadAt(data, int64(qemuHeaderSize)); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	xmlPart, cookiePart := data, []byte(nil)
	if h.CookieOffset > 0 {
		xmlPart, cookiePart = data[:h.CookieOffset], data[h.CookieOffset:]
	}
	xml, ok := cString(xmlPart)
	if !ok {
		return nil, fmt.Errorf("%s: save image XML is not terminated", f.Name())
	}
	img.xml = string(xml)
	if cookiePart != nil {
		c, ok := cString(cookiePart)
		if !ok {
			return nil, fmt.Errorf("%s: save image cookie is not terminated", f.Name())
		}
		img.cookie = append(c, 0)
	}
	return img, nil
}

func readTestImage(f *os.File) (*saveImage, error) {
	var n int32
	if _, err := f.Seek(int64(len(testSaveMagic)), io.SeekStart); err != nil {
		return nil, err
	}
	if err := binary.Read(f, binary.NativeEndian, &n); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	if n < 1 || n > testSaveMaxXML {
		return nil, fmt.Errorf("%s: XML length %d out of range", f.Name(), n)
	}
	xml := make([]byte, n)
	if _, err := io.ReadFull(f, xml); err != nil {
		return nil, fmt.Errorf("read %s: %w", f.Name(), err)
	}
	xml, _ = cString(xml)
	return &saveImage{kind: testImage, xml: string(xml)}, nil
}

// head is what a copy of the image with domain XML xml starts with; for a
// QEMU image the migration stream from img.stream follows it.
func (img *saveImage) head(xml string) ([]byte, error) {
	var buf bytes.Buffer
	switch img.kind {
	case qemuImage:
		h := img.header
		x := len(xml) + 1
		h.DataLen = uint32(x + len(img.cookie))
		h.CookieOffset = 0
		if img.cookie != nil {
			h.CookieOffset = uint32(x)
		}
		if err := binary.Write(&buf, binary.NativeEndian, h); err != nil {
			return nil, err
		}
		buf.WriteString(xml)
		buf.WriteByte(0)
		buf.Write(img.cookie)
	case testImage:
		if len(xml) > testSaveMaxXML {
			return nil, fmt.Errorf("domain XML of %d bytes is more than the test driver reads back", len(xml))
		}
		buf.WriteString(testSaveMagic)
		if err := binary.Write(&buf, binary.NativeEndian, int32(len(xml))); err != nil {
			return nil, err
		}
		buf.WriteString(xml)
	default:
		return nil, fmt.Errorf("unknown save image kind %d", img.kind)
	}
	return buf.Bytes(), nil
}

// cString is b up to its first NUL, and whether there was one.
func cString(b []byte) ([]byte, bool) {
	i := bytes.IndexByte(b, 0)
	if i < 0 {
		return b, false
	}
	return b[:i], true
}
