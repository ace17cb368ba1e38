package tiny

import (
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
)

// Under TCG, a bzImage costs about 0.4 s before the kernel runs: SeaBIOS
// loads it through the linuxboot option ROM and the decompressor then
// unpacks 50 MB in emulated code. QEMU boots an uncompressed ELF vmlinux
// with a PVH entry point directly, so the build unpacks the kernel once
// on the host instead of at every boot. libvirt passes either kind as
// <kernel> unchanged.

// pvhKernel returns the uncompressed vmlinux inside a bzImage if it has a
// PVH entry point. ok is false, with a reason, when the bzImage should be
// used as it is: a compression this code does not read, or no PVH entry.
func pvhKernel(bzImage []byte) (vmlinux []byte, ok bool, why string, err error) {
	payload, err := bzImagePayload(bzImage)
	if err != nil {
		return nil, false, "", err
	}
	switch {
	case bytes.HasPrefix(payload, lz4LegacyMagic):
		vmlinux, err = unlz4Legacy(payload)
	case bytes.HasPrefix(payload, []byte{0x1f, 0x8b}):
		var zr *gzip.Reader
		if zr, err = gzip.NewReader(bytes.NewReader(payload)); err == nil {
			vmlinux, err = io.ReadAll(zr)
		}
	default:
		return nil, false, fmt.Sprintf("kernel compressed with % x, not lz4 or gzip", payload[:min(6, len(payload))]), nil
	}
	if err != nil {
		return nil, false, "", fmt.Errorf("unpacking the kernel: %w", err)
	}
	has, err := hasPVHEntry(vmlinux)
	if err != nil {
		return nil, false, "", fmt.Errorf("unpacked kernel: %w", err)
	}
	if !has {
		return nil, false, "kernel has no PVH entry point", nil
	}
	return vmlinux, true, "", nil
}

// bzImagePayload finds the compressed kernel through the boot protocol
// header (payload_offset and payload_length, protocol 2.08 and later).
func bzImagePayload(b []byte) ([]byte, error) {
	if len(b) < 0x250 || string(b[0x202:0x206]) != "HdrS" {
		return nil, errors.New("not a bzImage")
	}
	if v := binary.LittleEndian.Uint16(b[0x206:]); v < 0x208 {
		return nil, fmt.Errorf("boot protocol %#x has no payload fields", v)
	}
	setupSects := int(b[0x1f1])
	if setupSects == 0 {
		setupSects = 4
	}
	start := (setupSects + 1) * 512
	off := start + int(binary.LittleEndian.Uint32(b[0x248:]))
	n := int(binary.LittleEndian.Uint32(b[0x24c:]))
	if off < start || n <= 0 || off+n > len(b) {
		return nil, fmt.Errorf("payload %d+%d outside the %d-byte bzImage", off, n, len(b))
	}
	return b[off : off+n], nil
}

var lz4LegacyMagic = []byte{0x02, 0x21, 0x4c, 0x18}

// unlz4Legacy decodes the LZ4 "legacy" frame the kernel build uses:
// the magic, then blocks each led by its compressed size. The build
// appends the uncompressed size as 4 more bytes, which serve as a check.
func unlz4Legacy(src []byte) ([]byte, error) {
	if len(src) < 8 {
		return nil, errors.New("lz4: short input")
	}
	want := int(binary.LittleEndian.Uint32(src[len(src)-4:]))
	out := make([]byte, 0, want)
	pos := 4
	for pos+4 <= len(src) {
		if bytes.Equal(src[pos:pos+4], lz4LegacyMagic) {
			pos += 4
			continue
		}
		n := int(binary.LittleEndian.Uint32(src[pos:]))
		if pos+4+n > len(src) {
			break // the size trailer
		}
		var err error
		if out, err = lz4Block(out, src[pos+4:pos+4+n]); err != nil {
			return nil, fmt.Errorf("lz4 block at %d: %w", pos, err)
		}
		pos += 4 + n
	}
	if len(out) != want {
		return nil, fmt.Errorf("lz4: got %d bytes, the trailer says %d", len(out), want)
	}
	return out, nil
}

// lz4Block appends one decoded LZ4 block to dst. Matches may reach back
// into earlier blocks, as the legacy format allows.
func lz4Block(dst, src []byte) ([]byte, error) {
	i := 0
	length := func(n int) (int, error) {
		if n != 15 {
			return n, nil
		}
		for {
			if i >= len(src) {
				return 0, errors.New("truncated length")
			}
			b := src[i]
			i++
			n += int(b)
			if b != 255 {
				return n, nil
			}
		}
	}
	for i < len(src) {
		token := src[i]
		i++
		lit, err := length(int(token >> 4))
		if err != nil {
			return nil, err
		}
		if i+lit > len(src) {
			return nil, errors.New("literals past the end")
		}
		dst = append(dst, src[i:i+lit]...)
		i += lit
		if i == len(src) {
			return dst, nil // the last sequence has literals only
		}
		if i+2 > len(src) {
			return nil, errors.New("truncated offset")
		}
		off := int(src[i]) | int(src[i+1])<<8
		i += 2
		m, err := length(int(token & 15))
		if err != nil {
			return nil, err
		}
		m += 4
		if off == 0 || off > len(dst) {
			return nil, fmt.Errorf("offset %d with %d bytes out", off, len(dst))
		}
		from := len(dst) - off
		if off >= m {
			dst = append(dst, dst[from:from+m]...)
			continue
		}
		for k := 0; k < m; k++ { // overlapping: a run repeating the last off bytes
			dst = append(dst, dst[from+k])
		}
	}
	return dst, nil
}

// hasPVHEntry looks for the Xen ELF note XEN_ELFNOTE_PHYS32_ENTRY (18),
// which is what QEMU needs to boot an ELF kernel directly.
func hasPVHEntry(vmlinux []byte) (bool, error) {
	f, err := elf.NewFile(bytes.NewReader(vmlinux))
	if err != nil {
		return false, err
	}
	if f.Class != elf.ELFCLASS64 || f.Machine != elf.EM_X86_64 {
		return false, fmt.Errorf("not an x86-64 ELF: %v %v", f.Class, f.Machine)
	}
	for _, p := range f.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		notes, err := io.ReadAll(p.Open())
		if err != nil {
			return false, err
		}
		for len(notes) >= 12 {
			namesz := int(binary.LittleEndian.Uint32(notes[0:]))
			descsz := int(binary.LittleEndian.Uint32(notes[4:]))
			typ := binary.LittleEndian.Uint32(notes[8:])
			align := func(n int) int { return (n + 3) &^ 3 }
			end := 12 + align(namesz) + align(descsz)
			if end > len(notes) || 12+namesz > len(notes) {
				break
			}
			if string(bytes.TrimRight(notes[12:12+namesz], "\x00")) == "Xen" && typ == 18 {
				return true, nil
			}
			notes = notes[end:]
		}
	}
	return false, nil
}
