package images

import (
	"bytes"
	"context"
	"debug/elf"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"

	"kumo/internal/errs"
)

// EC2's rule for AMI names: 3 to 128 characters from this set.
var imageName = regexp.MustCompile(`^[A-Za-z0-9()\[\] ./\-'@_]{3,128}$`)

func validateName(name string) error {
	if name == "" {
		return errs.New(errs.MissingParameter, "the image name is required")
	}
	if !imageName.MatchString(name) {
		return errs.New(errs.InvalidParameter,
			"invalid image name %q: use 3 to 128 letters, digits, spaces and ()[]./-'@_", name)
	}
	return nil
}

// checkKernel refuses files that are not x86 Linux kernels QEMU can boot
// directly (a bzImage, or an ELF vmlinux with a PVH entry point), so a typo
// fails at registration rather than as a guest that never boots.
func checkKernel(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	magic := make([]byte, 4)
	if _, err := f.ReadAt(magic, 0x202); err == nil && bytes.Equal(magic, []byte("HdrS")) {
		return nil
	}
	if ef, err := elf.NewFile(f); err == nil && ef.Machine == elf.EM_X86_64 && hasPVHEntry(ef) {
		return nil
	}
	return errs.New(errs.InvalidParameter, "the kernel is neither a Linux x86 bzImage nor an x86-64 ELF vmlinux")
}

// xenPhys32Entry is the ELF note type (owner "Xen") that marks a PVH entry
// point, the one QEMU needs to boot an ELF kernel directly.
const xenPhys32Entry = 18

func hasPVHEntry(ef *elf.File) bool {
	for _, p := range ef.Progs {
		if p.Type != elf.PT_NOTE {
			continue
		}
		data, err := io.ReadAll(p.Open())
		if err != nil {
			continue
		}
		for len(data) >= 12 {
			namesz := binary.LittleEndian.Uint32(data[0:])
			descsz := binary.LittleEndian.Uint32(data[4:])
			typ := binary.LittleEndian.Uint32(data[8:])
			nameEnd := 12 + int(namesz+3)&^3
			next := nameEnd + int(descsz+3)&^3
			if nameEnd > len(data) || next > len(data) || next <= 0 {
				break
			}
			if typ == xenPhys32Entry && bytes.HasPrefix(data[12:], []byte("Xen\x00")) {
				return true
			}
			data = data[next:]
		}
	}
	return false
}

// diskInfo is the part of `qemu-img info --output=json` that matters here.
type diskInfo struct {
	Format          string `json:"format"`
	VirtualSize     int64  `json:"virtual-size"`
	BackingFilename string `json:"backing-filename"`
	FormatSpecific  struct {
		Data struct {
			DataFile string `json:"data-file"`
		} `json:"data"`
	} `json:"format-specific"`
}

// checkDisk runs qemu-img with the declared format, never letting it probe,
// and refuses qcow2 files that point at other files: a backing file or an
// external data file would let an image read any file on the host.
func checkDisk(ctx context.Context, path, format string) (diskInfo, error) {
	switch format {
	case "qcow2", "raw":
	case "":
		return diskInfo{}, errs.New(errs.MissingParameter, "the disk format is required (qcow2 or raw)")
	default:
		return diskInfo{}, errs.New(errs.InvalidParameter, "unsupported disk format %q: use qcow2 or raw", format)
	}
	out, err := exec.CommandContext(ctx, "qemu-img", "info", "-f", format, "--output=json", path).Output()
	if err != nil {
		return diskInfo{}, errs.New(errs.InvalidParameter, "the disk is not a valid %s image", format)
	}
	var info diskInfo
	if err := json.Unmarshal(out, &info); err != nil {
		return diskInfo{}, fmt.Errorf("parse qemu-img info: %w", err)
	}
	if info.BackingFilename != "" || info.FormatSpecific.Data.DataFile != "" {
		return diskInfo{}, errs.New(errs.InvalidParameter,
			"the disk refers to another file (backing file or data file); flatten it with qemu-img convert first")
	}
	return info, nil
}
