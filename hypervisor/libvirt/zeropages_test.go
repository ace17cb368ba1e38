package libvirt

import (
	"bytes"
	"encoding/binary"
	"errors"
	"testing"
)

// ramRecord is one page of a RAM section: all fill, or data.
type ramRecord struct {
	block string
	addr  uint64
	fill  byte
	data  []byte // a whole page, or nil for a fill record
}

// streamBuilder writes a migration stream as QEMU does, naming a block
// only when it changes, across sections too.
type streamBuilder struct {
	bytes.Buffer
	last string
}

func (b *streamBuilder) u32(v uint32) { binary.Write(&b.Buffer, binary.BigEndian, v) }
func (b *streamBuilder) u64(v uint64) { binary.Write(&b.Buffer, binary.BigEndian, v) }
func (b *streamBuilder) name(s string) {
	b.WriteByte(byte(len(s)))
	b.WriteString(s)
}

func (b *streamBuilder) records(recs []ramRecord) {
	for _, r := range recs {
		flags := uint64(ramZero)
		if r.data != nil {
			flags = ramPage
		}
		if r.block == b.last {
			flags |= ramContinue
		}
		b.u64(r.addr | flags)
		if r.block != b.last {
			b.name(r.block)
			b.last = r.block
		}
		if r.data != nil {
			b.Write(r.data)
		} else {
			b.WriteByte(r.fill)
		}
	}
	b.u64(ramEOS)
}

// stream is a save of a guest whose RAM comes in two parts, then one
// other device.
func stream(first, second []ramRecord) []byte {
	var b streamBuilder
	b.WriteString("QEVM")
	b.u32(3)
	b.WriteByte(vmConfiguration)
	b.u32(13)
	b.WriteString("pc-i440fx-7.2")
	b.WriteByte(vmSectionStart)
	b.u32(2)
	b.name("ram")
	b.u32(0)
	b.u32(4)
	b.u64(3*pageSize | ramMemSize)
	b.name(guestRAM)
	b.u64(2 * pageSize)
	b.name("pc.bios")
	b.u64(pageSize)
	b.u64(ramEOS)
	b.WriteByte(vmSectionFooter)
	b.u32(2)
	b.WriteByte(vmSectionPart)
	b.u32(2)
	b.records(first)
	b.WriteByte(vmSectionFooter)
	b.u32(2)
	b.WriteByte(vmSectionEnd)
	b.u32(2)
	b.records(second)
	b.WriteByte(vmSectionFull)
	b.u32(3)
	b.name("apic")
	b.u32(0)
	b.u32(3)
	b.WriteString("device state, even with bytes like \x02 and \x08 in it")
	b.WriteByte(0) // end of stream
	return b.Bytes()
}

func TestDropZeroPagesKeepsEverythingElse(t *testing.T) {
	page := bytes.Repeat([]byte("a"), pageSize)
	zero := ramRecord{block: guestRAM, addr: 0}
	data := ramRecord{block: guestRAM, addr: pageSize, data: page}
	bios := ramRecord{block: "pc.bios", addr: 0}           // zero, of a block filled in at the destination
	filled := ramRecord{block: guestRAM, addr: 0, fill: 7} // not zero
	in := stream([]ramRecord{zero, data, bios, zero}, []ramRecord{zero, filled, {block: guestRAM, addr: pageSize}, bios})
	// The records that go are the zero pages of guest RAM; the ones left
	// name their block afresh where a dropped one named it. The second
	// section opens by continuing the first's last block.
	want := stream([]ramRecord{data, bios}, []ramRecord{filled, bios})
	var out bytes.Buffer
	dropped, err := dropZeroPages(bytes.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	if dropped != 4 {
		t.Errorf("dropped %d records, want 4", dropped)
	}
	if !bytes.Equal(out.Bytes(), want) {
		t.Fatalf("rewritten stream:\n%q\nwant:\n%q", out.Bytes(), want)
	}
}

func TestDropZeroPagesRefusesWhatItDoesNotKnow(t *testing.T) {
	xbzrle := stream([]ramRecord{{block: guestRAM}}, nil)
	// Turn the first record's zero flag into XBZRLE's, which it cannot read.
	i := bytes.Index(xbzrle, []byte{0, 0, 0, 0, 0, 0, 0, ramZero, byte(len(guestRAM))})
	xbzrle[i+7] = 0x40
	for name, in := range map[string][]byte{
		"not a stream": []byte("LibvirtQemudSave"),
		"truncated":    stream([]ramRecord{{block: guestRAM}}, nil)[:60],
		"xbzrle page":  xbzrle,
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := dropZeroPages(bytes.NewReader(in), &bytes.Buffer{}); !errors.Is(err, errUnknownStream) {
				t.Fatalf("got %v, want errUnknownStream", err)
			}
		})
	}
}
