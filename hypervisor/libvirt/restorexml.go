package libvirt

import (
	"errors"
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"

	"kumo/hypervisor"
)

// restoreDomain turns the domain XML of a save image into the XML of the
// defined domain spec.Name (whose UUID is uuid) to restore it as. Only
// what identifies the domain on the host changes: its name and UUID, its
// disk files, console log, metadata, networks and channel sockets.
// Everything the guest can see (device models and addresses, MAC
// addresses, memory, vCPUs, the kernel it booted) stays as saved, since
// the saved memory describes those devices.
//
// libvirt does not compare the result with the saved XML, because the
// driver passes it in the image header rather than as a replacement XML.
// So the shape checks here stand in for libvirt's ABI check.
func restoreDomain(saved *libvirtxml.Domain, spec hypervisor.Spec, uuid string) error {
	if err := sameShape(saved, spec); err != nil {
		return err
	}
	saved.ID = nil
	saved.Name = spec.Name
	saved.UUID = uuid
	saved.Metadata = nil
	if spec.Metadata != "" {
		md, err := marshalMetadata(spec.Metadata)
		if err != nil {
			return fmt.Errorf("metadata: %w", err)
		}
		saved.Metadata = &libvirtxml.DomainMetadata{XML: md}
	}
	devs := saved.Devices
	for i := range devs.Disks {
		disk := &devs.Disks[i]
		disk.Source = &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: spec.Disks[i].Path}}
		// The saved chain is the saved domain's. An empty <backingStore/>
		// (what libvirt records for a standalone image) would even make
		// libvirt open this domain's qcow2 overlay without its base.
		// Without the element libvirt probes the chain of the new file.
		disk.BackingStore = nil
		disk.Alias = nil
	}
	for i := range devs.Interfaces {
		nic := &devs.Interfaces[i]
		// The bridge and port the saved run was given are looked up
		// again from the network when this domain starts.
		nic.Source = &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: spec.NICs[i].Network}}
		nic.Target, nic.Alias = nil, nil
	}
	for i := range devs.Serials {
		devs.Serials[i].Log = consoleLog(spec)
		devs.Serials[i].Alias = nil
	}
	// libvirt mirrors the first serial port's settings on the console
	// and, if the two disagree, keeps the console's.
	for i := range devs.Consoles {
		devs.Consoles[i].Log = consoleLog(spec)
		devs.Consoles[i].Alias = nil
	}
	for i := range devs.Channels {
		ch := &devs.Channels[i]
		// Without a path libvirt binds a fresh socket in this run's own
		// folder; the saved path (if any) belongs to the saved domain.
		if ch.Source == nil || ch.Source.UNIX == nil {
			ch.Source = &libvirtxml.DomainChardevSource{UNIX: &libvirtxml.DomainChardevSourceUNIX{}}
		}
		ch.Source.UNIX.Path = ""
		ch.Source.UNIX.Mode = "bind"
		ch.Target.VirtIO.State = ""
		ch.Alias = nil
	}
	return nil
}

func consoleLog(spec hypervisor.Spec) *libvirtxml.DomainChardevLog {
	if spec.ConsoleLog == "" {
		return nil
	}
	return &libvirtxml.DomainChardevLog{File: spec.ConsoleLog, Append: "on"}
}

// sameShape checks that the saved domain has the devices spec describes,
// in the same order, so that each of spec's files and names lands on the
// device it was meant for.
func sameShape(saved *libvirtxml.Domain, spec hypervisor.Spec) error {
	var errs []error
	if saved.VCPU == nil || int(saved.VCPU.Value) != spec.VCPUs {
		errs = append(errs, fmt.Errorf("vCPUs: saved %v, spec %d", vcpus(saved), spec.VCPUs))
	}
	if kib, err := memoryKiB(saved.Memory); err != nil || kib != uint64(spec.MemoryMiB)*1024 {
		errs = append(errs, fmt.Errorf("memory: saved %d KiB (%v), spec %d MiB", kib, err, spec.MemoryMiB))
	}
	devs := saved.Devices
	if devs == nil {
		devs = &libvirtxml.DomainDeviceList{}
		saved.Devices = devs
	}
	if len(devs.Disks) != len(spec.Disks) {
		errs = append(errs, fmt.Errorf("disks: saved %d, spec %d", len(devs.Disks), len(spec.Disks)))
	} else {
		for i, d := range devs.Disks {
			want := spec.Disks[i]
			switch {
			case d.Device != "" && d.Device != "disk":
				errs = append(errs, fmt.Errorf("disk %d: saved device is a %s", i, d.Device))
			case d.Source == nil || d.Source.File == nil:
				errs = append(errs, fmt.Errorf("disk %d: saved disk is not a file", i))
			// The format is kept from the saved driver; a mismatch would
			// have QEMU read this domain's file as something it is not.
			case d.Driver == nil || d.Driver.Type != string(want.Format):
				errs = append(errs, fmt.Errorf("disk %d: saved format %s, spec %s", i, diskFormat(d), want.Format))
			case (d.ReadOnly != nil) != want.ReadOnly:
				errs = append(errs, fmt.Errorf("disk %d: saved read-only %v, spec %v", i, d.ReadOnly != nil, want.ReadOnly))
			}
		}
	}
	if len(devs.Interfaces) != len(spec.NICs) {
		errs = append(errs, fmt.Errorf("NICs: saved %d, spec %d", len(devs.Interfaces), len(spec.NICs)))
	} else {
		for i, n := range devs.Interfaces {
			if n.Source == nil || n.Source.Network == nil {
				errs = append(errs, fmt.Errorf("NIC %d: saved NIC is not on a libvirt network", i))
			}
		}
	}
	var names []string
	for _, ch := range devs.Channels {
		if ch.Target == nil || ch.Target.VirtIO == nil {
			errs = append(errs, errors.New("saved domain has a channel that is not virtio"))
			continue
		}
		names = append(names, ch.Target.VirtIO.Name)
	}
	if strings.Join(names, ",") != strings.Join(spec.Channels, ",") {
		errs = append(errs, fmt.Errorf("channels: saved %q, spec %q", names, spec.Channels))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("save image does not fit domain %q: %w", spec.Name, err)
	}
	return nil
}

func vcpus(d *libvirtxml.Domain) any {
	if d.VCPU == nil {
		return "none"
	}
	return d.VCPU.Value
}

func diskFormat(d libvirtxml.DomainDisk) string {
	if d.Driver == nil || d.Driver.Type == "" {
		return "(none)"
	}
	return d.Driver.Type
}

// memoryKiB reads <memory> in the units libvirt writes and accepts.
func memoryKiB(m *libvirtxml.DomainMemory) (uint64, error) {
	if m == nil {
		return 0, errors.New("no <memory>")
	}
	v := uint64(m.Value)
	switch m.Unit {
	case "b", "bytes":
		return v / 1024, nil
	case "", "k", "K", "KiB":
		return v, nil
	case "KB":
		return v * 1000 / 1024, nil
	case "M", "MiB":
		return v << 10, nil
	case "MB":
		return v * 1000 * 1000 / 1024, nil
	case "G", "GiB":
		return v << 20, nil
	case "GB":
		return v * 1000 * 1000 * 1000 / 1024, nil
	case "T", "TiB":
		return v << 30, nil
	}
	return 0, fmt.Errorf("unknown memory unit %q", m.Unit)
}
