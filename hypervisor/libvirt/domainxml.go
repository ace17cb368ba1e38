package libvirt

import (
	"encoding/xml"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"libvirt.org/go/libvirtxml"

	"kumo/hypervisor"
)

// MetadataNamespace identifies kumo's element inside a domain's <metadata>;
// libvirt keys metadata by namespace URI, so other tools' entries coexist.
const MetadataNamespace = "https://kumo.dev/xmlns/domain/1"

// The machine type is fixed rather than left to libvirt's default so that
// the guest hardware does not change when the host's QEMU is upgraded.
const machineType = "pc"

// BuildDomain turns a spec into the libvirt domain kumo defines for it.
// It is pure so the XML can be reviewed as golden files; the driver only
// overrides the domain type for libvirt's test driver.
func BuildDomain(spec hypervisor.Spec, accel hypervisor.Accel) (*libvirtxml.Domain, error) {
	if err := validate(spec); err != nil {
		return nil, err
	}
	dom := &libvirtxml.Domain{
		Name:       spec.Name,
		UUID:       spec.UUID,
		Memory:     &libvirtxml.DomainMemory{Value: uint(spec.MemoryMiB), Unit: "MiB"},
		VCPU:       &libvirtxml.DomainVCPU{Value: uint(spec.VCPUs)},
		OS:         buildOS(spec),
		Features:   &libvirtxml.DomainFeatureList{ACPI: &libvirtxml.DomainFeature{}, APIC: &libvirtxml.DomainFeatureAPIC{}},
		Clock:      &libvirtxml.DomainClock{Offset: "utc"},
		OnPoweroff: "destroy",
		OnReboot:   "restart",
		// A crashed guest holds memory and tells nobody; stopping it lets
		// the control plane see a stopped domain and decide.
		OnCrash: "destroy",
		Devices: buildDevices(spec),
	}
	switch accel {
	case hypervisor.AccelKVM:
		dom.Type = "kvm"
		// kumo never migrates guests, so exposing the host CPU costs
		// nothing and gives guests every feature.
		dom.CPU = &libvirtxml.DomainCPU{Mode: "host-passthrough"}
	case hypervisor.AccelTCG:
		dom.Type = "qemu"
		// No <cpu>: QEMU then emulates its default model. host-passthrough
		// would ask TCG to emulate the host CPU, which it cannot do fully.
	default:
		return nil, fmt.Errorf("libvirt: domain %q: unknown accel %q", spec.Name, accel)
	}
	if spec.Metadata != "" {
		md, err := marshalMetadata(spec.Metadata)
		if err != nil {
			return nil, fmt.Errorf("libvirt: domain %q: metadata: %w", spec.Name, err)
		}
		dom.Metadata = &libvirtxml.DomainMetadata{XML: md}
	}
	return dom, nil
}

// channelName is what a channel may be called. The name is both the port
// name the guest sees and a file name in libvirt's socket folder, so it is
// kept to characters that are safe in either.
var channelName = regexp.MustCompile(`^[a-z0-9][a-z0-9._-]{0,63}$`)

func validate(spec hypervisor.Spec) error {
	var errs []error
	if spec.Name == "" {
		errs = append(errs, errors.New("no name"))
	}
	if spec.VCPUs <= 0 || spec.MemoryMiB <= 0 {
		errs = append(errs, fmt.Errorf("need VCPUs and MemoryMiB > 0, have %d and %d", spec.VCPUs, spec.MemoryMiB))
	}
	if spec.Kernel == "" && (spec.Initrd != "" || spec.Cmdline != "") {
		errs = append(errs, errors.New("initrd or cmdline without a kernel"))
	}
	if spec.Kernel == "" && len(spec.Disks) == 0 {
		errs = append(errs, errors.New("nothing to boot: no kernel and no disk"))
	}
	for i, d := range spec.Disks {
		if d.Path == "" {
			errs = append(errs, fmt.Errorf("disk %d has no path", i))
		}
		// An unknown format would let QEMU probe the image, and a guest
		// that writes a qcow2 header into a raw disk could then read host
		// files through its backing chain.
		if d.Format != hypervisor.FormatQCOW2 && d.Format != hypervisor.FormatRaw {
			errs = append(errs, fmt.Errorf("disk %d (%s) has format %q, want qcow2 or raw", i, d.Path, d.Format))
		}
	}
	for i, n := range spec.NICs {
		if n.MAC == "" || n.Network == "" {
			errs = append(errs, fmt.Errorf("nic %d needs a MAC and a network", i))
		}
	}
	seen := map[string]bool{}
	for i, c := range spec.Channels {
		if !channelName.MatchString(c) {
			errs = append(errs, fmt.Errorf("channel %d has name %q, want %s", i, c, channelName))
		}
		if seen[c] {
			errs = append(errs, fmt.Errorf("channel %q is given twice", c))
		}
		seen[c] = true
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("libvirt: invalid spec for domain %q: %w", spec.Name, err)
	}
	return nil
}

func buildOS(spec hypervisor.Spec) *libvirtxml.DomainOS {
	os := &libvirtxml.DomainOS{
		Type:    &libvirtxml.DomainOSType{Type: "hvm", Machine: machineType},
		Kernel:  spec.Kernel,
		Initrd:  spec.Initrd,
		Cmdline: spec.Cmdline,
	}
	if spec.Kernel == "" {
		os.BootDevices = []libvirtxml.DomainBootDevice{{Dev: "hd"}}
	}
	return os
}

func buildDevices(spec hypervisor.Spec) *libvirtxml.DomainDeviceList {
	devs := &libvirtxml.DomainDeviceList{
		// libvirt adds a USB controller to pc machines unless told not
		// to; nothing uses it and its reset slows boot under TCG.
		Controllers: []libvirtxml.DomainController{{Type: "usb", Model: "none"}},
		// Without a balloon the guest keeps what it was given; kumo does
		// not overcommit memory.
		MemBalloon: &libvirtxml.DomainMemBalloon{Model: "none"},
		// Fresh guests block on entropy (sshd host keys, TLS) without it.
		RNGs: []libvirtxml.DomainRNG{{
			Model:   "virtio",
			Backend: &libvirtxml.DomainRNGBackend{Random: &libvirtxml.DomainRNGBackendRandom{Device: "/dev/urandom"}},
		}},
	}
	for i, d := range spec.Disks {
		disk := libvirtxml.DomainDisk{
			Device: "disk",
			Driver: &libvirtxml.DomainDiskDriver{Name: "qemu", Type: string(d.Format)},
			Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: d.Path}},
			Target: &libvirtxml.DomainDiskTarget{Dev: diskName(i), Bus: "virtio"},
		}
		if d.ReadOnly {
			disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
		}
		devs.Disks = append(devs.Disks, disk)
	}
	for _, n := range spec.NICs {
		devs.Interfaces = append(devs.Interfaces, libvirtxml.DomainInterface{
			MAC:    &libvirtxml.DomainInterfaceMAC{Address: n.MAC},
			Source: &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: n.Network}},
			Model:  &libvirtxml.DomainInterfaceModel{Type: "virtio"},
			// The iPXE option ROM is only for network boot, which kumo
			// never does; loading it costs seconds under TCG.
			ROM: &libvirtxml.DomainROM{Enabled: "no"},
		})
	}
	port := uint(0)
	serial := libvirtxml.DomainSerial{
		Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
		Target: &libvirtxml.DomainSerialTarget{Port: &port},
	}
	if spec.ConsoleLog != "" {
		// append keeps the console of earlier boots, which is what a user
		// reading GetConsoleOutput after a reboot wants.
		serial.Log = &libvirtxml.DomainChardevLog{File: spec.ConsoleLog, Append: "on"}
	}
	devs.Serials = []libvirtxml.DomainSerial{serial}
	devs.Consoles = []libvirtxml.DomainConsole{{
		Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
		Target: &libvirtxml.DomainConsoleTarget{Type: "serial", Port: &port},
	}}
	if len(spec.Channels) > 0 {
		// One controller carries every port. libvirt would add it by
		// itself; naming it keeps the XML a full list of the guest's
		// devices.
		index := uint(0)
		devs.Controllers = append(devs.Controllers, libvirtxml.DomainController{Type: "virtio-serial", Index: &index})
	}
	for _, name := range spec.Channels {
		devs.Channels = append(devs.Channels, libvirtxml.DomainChannel{
			// No path: libvirt then binds the socket under its own
			// per-domain folder, which is unique per run and which a
			// restored domain gets afresh.
			Source: &libvirtxml.DomainChardevSource{UNIX: &libvirtxml.DomainChardevSourceUNIX{Mode: "bind"}},
			Target: &libvirtxml.DomainChannelTarget{VirtIO: &libvirtxml.DomainChannelTargetVirtIO{Name: name}},
		})
	}
	return devs
}

// diskName is the Linux name of the i-th virtio disk: vda..vdz, vdaa, ...
func diskName(i int) string {
	var b []byte
	for i++; i > 0; i = (i - 1) / 26 {
		b = append(b, byte('a'+(i-1)%26))
	}
	for l, r := 0, len(b)-1; l < r; l, r = l+1, r-1 {
		b[l], b[r] = b[r], b[l]
	}
	return "vd" + string(b)
}

type metadataElement struct {
	XMLName xml.Name
	NS      string `xml:"xmlns:kumo,attr,omitempty"`
	Text    string `xml:",chardata"`
}

// marshalMetadata renders the kumo element with the "kumo" prefix, as
// libvirt documents namespaced metadata; encoding/xml escapes the text.
func marshalMetadata(text string) (string, error) {
	// encoding/xml would silently replace these with U+FFFD.
	if !utf8.ValidString(text) || strings.ContainsFunc(text, func(r rune) bool { return !isXMLChar(r) }) {
		return "", errors.New("contains characters XML cannot carry")
	}
	b, err := xml.Marshal(metadataElement{XMLName: xml.Name{Local: "kumo:metadata"}, NS: MetadataNamespace, Text: text})
	return string(b), err
}

// unmarshalMetadata reads what virDomainGetMetadata returns: the element
// re-serialised by libvirt, prefix and all, of which only the text matters.
func unmarshalMetadata(s string) (string, error) {
	var el metadataElement
	if err := xml.Unmarshal([]byte(s), &el); err != nil {
		return "", err
	}
	return el.Text, nil
}

// isXMLChar is the Char production of XML 1.0.
func isXMLChar(r rune) bool {
	return r == 0x09 || r == 0x0A || r == 0x0D ||
		r >= 0x20 && r <= 0xD7FF ||
		r >= 0xE000 && r <= 0xFFFD ||
		r >= 0x10000 && r <= 0x10FFFF
}
