package libvirt

import (
	"crypto/rand"
	"encoding/hex"
	"path/filepath"
	"testing"

	lv "libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"kumo/hypervisor"
)

func randomSuffix() string {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// twinSpecs are a template and a domain to restore it into, alike in shape
// and different in everything else.
func twinSpecs(dir string, channels ...string) (tmpl, target hypervisor.Spec) {
	sfx := randomSuffix()
	mk := func(name, mac string) hypervisor.Spec {
		return hypervisor.Spec{
			Name:      name,
			VCPUs:     1,
			MemoryMiB: 256,
			Kernel:    filepath.Join(dir, "vmlinux"),
			Initrd:    filepath.Join(dir, "initrd.gz"),
			Cmdline:   "console=ttyS0 kumo.id=" + name,
			Disks: []hypervisor.Disk{
				{Path: filepath.Join(dir, name+"-root.raw"), Format: hypervisor.FormatRaw},
				{Path: filepath.Join(dir, name+"-seed.raw"), Format: hypervisor.FormatRaw, ReadOnly: true},
			},
			NICs:       []hypervisor.NIC{{MAC: mac, Network: "kumo"}},
			ConsoleLog: filepath.Join(dir, name+"-console.log"),
			Metadata:   "metadata of " + name,
			Channels:   channels,
		}
	}
	return mk("i-tmpl-"+sfx, "52:54:00:00:00:01"), mk("i-copy-"+sfx, "52:54:00:ab:cd:02")
}

func domainXML(t *testing.T, d *Driver, name string, flags lv.DomainXMLFlags) *libvirtxml.Domain {
	t.Helper()
	dom, err := d.conn.LookupDomainByName(name)
	if err != nil {
		t.Fatal(err)
	}
	defer dom.Free()
	desc, err := dom.GetXMLDesc(flags)
	if err != nil {
		t.Fatal(err)
	}
	var def libvirtxml.Domain
	if err := def.Unmarshal(desc); err != nil {
		t.Fatal(err)
	}
	return &def
}

// wantRestoredXML checks the two definitions libvirt keeps of a domain
// restored from tmpl: the running one is target's identity on tmpl's
// guest, the persistent one is target as defined.
func wantRestoredXML(t *testing.T, d *Driver, tmpl, target hypervisor.Spec, uuid string) {
	t.Helper()
	live := domainXML(t, d, target.Name, 0)
	if live.Name != target.Name || live.UUID != uuid {
		t.Errorf("live name, UUID = %s, %s; want %s, %s", live.Name, live.UUID, target.Name, uuid)
	}
	for i, disk := range live.Devices.Disks {
		if disk.Source.File.File != target.Disks[i].Path {
			t.Errorf("live disk %d is %s, want %s", i, disk.Source.File.File, target.Disks[i].Path)
		}
	}
	if log := live.Devices.Serials[0].Log; log == nil || log.File != target.ConsoleLog {
		t.Errorf("live console log %+v, want %s", log, target.ConsoleLog)
	}
	md, err := unmarshalMetadata(live.Metadata.XML)
	if err != nil || md != target.Metadata {
		t.Errorf("live metadata %q, %v; want %q", md, err, target.Metadata)
	}
	// The guest's devices and kernel are the template's.
	if mac := live.Devices.Interfaces[0].MAC.Address; mac != tmpl.NICs[0].MAC {
		t.Errorf("live MAC %s, want the saved %s", mac, tmpl.NICs[0].MAC)
	}
	if live.OS.Cmdline != tmpl.Cmdline {
		t.Errorf("live cmdline %q, want the saved %q", live.OS.Cmdline, tmpl.Cmdline)
	}

	// The next cold start boots the domain as defined.
	conf := domainXML(t, d, target.Name, lv.DOMAIN_XML_INACTIVE)
	if mac := conf.Devices.Interfaces[0].MAC.Address; mac != target.NICs[0].MAC {
		t.Errorf("persistent MAC %s, want the defined %s", mac, target.NICs[0].MAC)
	}
	if conf.OS.Cmdline != target.Cmdline || conf.UUID != uuid || conf.Name != target.Name {
		t.Errorf("persistent cmdline %q, UUID %s; want the defined %q, %s", conf.OS.Cmdline, conf.UUID, target.Cmdline, uuid)
	}
}

// libvirt's test driver shares the code that restores onto a defined
// domain with QEMU's (virDomainObjListAdd), so the definitions kept can
// be checked here without a guest; qemu_test.go checks them on QEMU.
func TestRestoreKeepsDefinition(t *testing.T) {
	d := newTestDriver(t)
	defer d.Close()
	tmpl, target := twinSpecs(t.TempDir(), "org.kumo.identity")
	for _, s := range []hypervisor.Spec{tmpl, target} {
		if err := d.Define(ctx(t), s); err != nil {
			t.Fatal(err)
		}
		defer func() {
			d.Destroy(ctx(t), s.Name)
			d.Undefine(ctx(t), s.Name)
		}()
	}
	if err := d.Start(ctx(t), tmpl.Name); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "memory.save")
	if err := d.SaveMemory(ctx(t), tmpl.Name, path); err != nil {
		t.Fatal(err)
	}
	before, _ := d.Inspect(ctx(t), target.Name)
	if err := d.RestoreMemory(ctx(t), path, target); err != nil {
		t.Fatal(err)
	}
	wantRestoredXML(t, d, tmpl, target, before.UUID)
	if err := d.Destroy(ctx(t), target.Name); err != nil {
		t.Fatal(err)
	}
	if mac := domainXML(t, d, target.Name, 0).Devices.Interfaces[0].MAC.Address; mac != target.NICs[0].MAC {
		t.Errorf("MAC after the restored run %s, want the defined %s", mac, target.NICs[0].MAC)
	}

	// A UUID in the spec must be the defined domain's.
	wrong := target
	wrong.UUID = "00000000-0000-4000-8000-000000000000"
	if err := d.RestoreMemory(ctx(t), path, wrong); err == nil {
		t.Error("RestoreMemory accepted a spec whose UUID is not the domain's")
	}
}
