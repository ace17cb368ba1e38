package libvirt

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
)

// A saved guest's migration stream holds a record for every page of its
// RAM, most of them saying "this page is zero". Restoring, QEMU 7.2 reads
// each such destination page to check it is zero already, which allocates
// it: a 512 MiB guest that uses 60 MiB costs its whole 512 MiB and over a
// second of page faults per restore. A restoring QEMU maps guest RAM fresh,
// zero-filled, so those records say nothing it does not know; kumo drops
// them from its templates once, when it saves them.
//
// This reads QEMU's private migration format (migration/savevm.c and
// migration/ram.c). Anything it does not recognise stops the rewrite, and
// the caller keeps the image as libvirt wrote it.

// Section types of the savevm stream.
const (
	vmSectionStart  = 0x01
	vmSectionPart   = 0x02
	vmSectionEnd    = 0x03
	vmSectionFull   = 0x04
	vmConfiguration = 0x07
	vmSectionFooter = 0x7e
)

// Flags of a RAM record, in the low bits of its page address.
const (
	ramZero     = 0x02 // one fill byte follows: the page is all that byte
	ramMemSize  = 0x04 // the list of RAM blocks follows
	ramPage     = 0x08 // the page follows
	ramEOS      = 0x10 // end of this section's RAM records
	ramContinue = 0x20 // same block as the record before: no name follows
	ramFlags    = 0xfff
	pageSize    = 4096 // x86's target page
)

// guestRAM is the RAM block of a PC guest's memory. Other blocks (BIOS,
// option ROMs, ACPI tables) are filled in at the destination before the
// stream is read, so their zero pages do matter.
const guestRAM = "pc.ram"

var errUnknownStream = errors.New("unrecognised migration stream")

// dropZeroPagesIn rewrites the raw QEMU save image at path without the
// zero-page records of guest RAM, through a sibling file that replaces it
// whole, and returns how many records it dropped.
func dropZeroPagesIn(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	img, err := readSaveImage(f)
	if err != nil {
		return 0, err
	}
	if img.kind != qemuImage || img.header.Format != 0 {
		return 0, fmt.Errorf("%s: only raw QEMU save images can be rewritten", path)
	}
	tmp := siblingName(path, "compact")
	out, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return 0, err
	}
	defer os.Remove(tmp) // renamed away on success
	defer out.Close()
	if _, err := io.Copy(out, io.NewSectionReader(f, 0, img.stream)); err != nil {
		return 0, err
	}
	dropped, err := dropZeroPages(io.NewSectionReader(f, img.stream, img.size-img.stream), out)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", path, err)
	}
	if err := out.Sync(); err != nil {
		return 0, err
	}
	if err := out.Close(); err != nil {
		return 0, err
	}
	return dropped, os.Rename(tmp, path)
}

// dropZeroPages copies a migration stream from r to w without the records
// of zero pages of guest RAM. RAM comes first in the stream; the first
// section of another device ends the rewrite, and the rest is copied as
// it is.
func dropZeroPages(r io.Reader, w io.Writer) (int, error) {
	s := &ramFilter{in: bufio.NewReaderSize(r, 1<<20), out: bufio.NewWriterSize(w, 1<<20)}
	if err := s.copyN(8); err != nil { // magic and version
		return 0, err
	}
	if string(s.last8[:4]) != "QEVM" {
		return 0, fmt.Errorf("%w: no QEVM magic", errUnknownStream)
	}
	ramSection, haveRAM := uint32(0), false
	for {
		kind, err := s.in.ReadByte()
		if err != nil {
			return 0, fmt.Errorf("%w: %v", errUnknownStream, err)
		}
		s.out.WriteByte(kind)
		switch kind {
		case vmConfiguration:
			n, err := s.copyU32()
			if err == nil {
				err = s.copyN(int(n))
			}
			if err != nil {
				return 0, err
			}
		case vmSectionFooter:
			if _, err := s.copyU32(); err != nil {
				return 0, err
			}
		case vmSectionStart, vmSectionFull:
			id, err := s.copyU32()
			if err != nil {
				return 0, err
			}
			name, err := s.copyName()
			if err == nil {
				err = s.copyN(8) // instance and version
			}
			if err != nil {
				return 0, err
			}
			if name != "ram" {
				return s.finish()
			}
			ramSection, haveRAM = id, true
			if err := s.ramRecords(); err != nil {
				return 0, err
			}
		case vmSectionPart, vmSectionEnd:
			id, err := s.copyU32()
			if err != nil {
				return 0, err
			}
			if !haveRAM || id != ramSection {
				return s.finish()
			}
			if err := s.ramRecords(); err != nil {
				return 0, err
			}
		default:
			return s.finish()
		}
	}
}

type ramFilter struct {
	in      *bufio.Reader
	out     *bufio.Writer
	last8   [8]byte
	dropped int
	// The block of the last record read, and of the last one written:
	// both sides of the stream keep theirs across sections.
	block, written string
}

// finish copies the rest of the stream as it is.
func (s *ramFilter) finish() (int, error) {
	if _, err := io.Copy(s.out, s.in); err != nil {
		return 0, err
	}
	return s.dropped, s.out.Flush()
}

// copyN copies n bytes, keeping the last 8 it read of a short copy.
func (s *ramFilter) copyN(n int) error {
	if n <= len(s.last8) {
		if _, err := io.ReadFull(s.in, s.last8[:n]); err != nil {
			return fmt.Errorf("%w: %v", errUnknownStream, err)
		}
		s.out.Write(s.last8[:n])
		return nil
	}
	if _, err := io.CopyN(s.out, s.in, int64(n)); err != nil {
		return fmt.Errorf("%w: %v", errUnknownStream, err)
	}
	return nil
}

func (s *ramFilter) copyU32() (uint32, error) {
	err := s.copyN(4)
	return binary.BigEndian.Uint32(s.last8[:4]), err
}

func (s *ramFilter) copyU64() (uint64, error) {
	err := s.copyN(8)
	return binary.BigEndian.Uint64(s.last8[:]), err
}

func (s *ramFilter) readName() (string, error) {
	n, err := s.in.ReadByte()
	if err != nil {
		return "", fmt.Errorf("%w: %v", errUnknownStream, err)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.in, b); err != nil {
		return "", fmt.Errorf("%w: %v", errUnknownStream, err)
	}
	return string(b), nil
}

func (s *ramFilter) copyName() (string, error) {
	name, err := s.readName()
	s.writeName(name)
	return name, err
}

func (s *ramFilter) writeName(name string) {
	s.out.WriteByte(byte(len(name)))
	s.out.WriteString(name)
}

// ramRecords filters one section's RAM records, up to its end marker. A
// record's block name goes with the first record of a block; CONTINUE
// says "the block before", even across sections. A dropped record may
// have carried the name, so every record written is flagged against what
// was written, not read.
func (s *ramFilter) ramRecords() error {
	for {
		var rec [8]byte
		if _, err := io.ReadFull(s.in, rec[:]); err != nil {
			return fmt.Errorf("%w: %v", errUnknownStream, err)
		}
		v := binary.BigEndian.Uint64(rec[:])
		addr, flags := v&^ramFlags, v&ramFlags
		if flags&ramMemSize != 0 {
			s.out.Write(rec[:])
			if err := s.copyBlockList(addr); err != nil {
				return err
			}
			continue
		}
		if flags&ramEOS != 0 {
			s.out.Write(rec[:])
			return nil
		}
		if flags&ramContinue == 0 {
			name, err := s.readName()
			if err != nil {
				return err
			}
			s.block = name
		} else if s.block == "" {
			return fmt.Errorf("%w: a RAM record continues no block", errUnknownStream)
		}
		var body []byte
		switch flags &^ ramContinue {
		case ramZero:
			fill, err := s.in.ReadByte()
			if err != nil {
				return fmt.Errorf("%w: %v", errUnknownStream, err)
			}
			if fill == 0 && s.block == guestRAM {
				s.dropped++
				continue
			}
			body = []byte{fill}
		case ramPage:
			body = make([]byte, pageSize)
			if _, err := io.ReadFull(s.in, body); err != nil {
				return fmt.Errorf("%w: %v", errUnknownStream, err)
			}
		default:
			return fmt.Errorf("%w: RAM record flags %#x", errUnknownStream, flags)
		}
		flags &^= ramContinue
		if s.block == s.written {
			flags |= ramContinue
		}
		binary.BigEndian.PutUint64(rec[:], addr|flags)
		s.out.Write(rec[:])
		if s.block != s.written {
			s.writeName(s.block)
			s.written = s.block
		}
		s.out.Write(body)
	}
}

// copyBlockList copies the list of RAM blocks that opens the RAM: each a
// name and a length, the lengths adding up to total.
func (s *ramFilter) copyBlockList(total uint64) error {
	for total > 0 {
		if _, err := s.copyName(); err != nil {
			return err
		}
		length, err := s.copyU64()
		if err != nil {
			return err
		}
		if length > total {
			return fmt.Errorf("%w: RAM blocks longer than the RAM", errUnknownStream)
		}
		total -= length
	}
	return nil
}
