package libvirt

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"kumo/hypervisor"
)

var update = flag.Bool("update", false, "rewrite testdata/*.xml from the current output")

func goldenSpecs() map[string]struct {
	spec  hypervisor.Spec
	accel hypervisor.Accel
} {
	kernelBoot := hypervisor.Spec{
		Name:      "i-0123456789abcdef0",
		UUID:      "5a1f0c3e-8b7d-4e2a-9c6f-0d1e2f3a4b5c",
		VCPUs:     2,
		MemoryMiB: 512,
		Kernel:    "/var/lib/kumo/images/ami-1/vmlinuz",
		Initrd:    "/var/lib/kumo/images/ami-1/initrd.img",
		Cmdline:   "console=ttyS0 root=/dev/vda rw",
		Disks: []hypervisor.Disk{
			{Path: "/var/lib/kumo/instances/i-0123456789abcdef0/root.qcow2", Format: hypervisor.FormatQCOW2},
			{Path: "/var/lib/kumo/instances/i-0123456789abcdef0/seed.img", Format: hypervisor.FormatRaw, ReadOnly: true},
		},
		NICs:       []hypervisor.NIC{{MAC: "52:54:00:ab:cd:ef", Network: "kumo"}},
		ConsoleLog: "/var/lib/kumo/instances/i-0123456789abcdef0/console.log",
		Metadata:   `{"instance":"i-0123456789abcdef0","note":"</kumo:metadata><evil/> & ]]>"}`,
		Channels:   []string{"org.kumo.identity", "org.kumo.second"},
	}
	diskBoot := hypervisor.Spec{
		Name:      "i-disk-boot",
		VCPUs:     1,
		MemoryMiB: 256,
		Disks:     []hypervisor.Disk{{Path: "/var/lib/kumo/instances/i-disk-boot/root.raw", Format: hypervisor.FormatRaw}},
		NICs: []hypervisor.NIC{
			{MAC: "52:54:00:00:00:01", Network: "kumo"},
			{MAC: "52:54:00:00:00:02", Network: "other"},
		},
	}
	return map[string]struct {
		spec  hypervisor.Spec
		accel hypervisor.Accel
	}{
		"tcg-kernel-boot": {kernelBoot, hypervisor.AccelTCG},
		"kvm-kernel-boot": {kernelBoot, hypervisor.AccelKVM},
		"tcg-disk-boot":   {diskBoot, hypervisor.AccelTCG},
	}
}

func TestDomainXMLGolden(t *testing.T) {
	for name, tc := range goldenSpecs() {
		t.Run(name, func(t *testing.T) {
			dom, err := BuildDomain(tc.spec, tc.accel)
			if err != nil {
				t.Fatal(err)
			}
			got, err := dom.Marshal()
			if err != nil {
				t.Fatal(err)
			}
			got += "\n"
			path := filepath.Join("testdata", name+".xml")
			if *update {
				if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatalf("%v (run go test -update to create it)", err)
			}
			if got != string(want) {
				t.Errorf("domain XML differs from %s (go test -update rewrites it)\ngot:\n%s", path, got)
			}
		})
	}
}

// The metadata must come back as text however hostile it is, which is
// only true if it was escaped rather than pasted into the XML.
func TestMetadataRoundTrip(t *testing.T) {
	spec := goldenSpecs()["tcg-kernel-boot"].spec
	dom, err := BuildDomain(spec, hypervisor.AccelTCG)
	if err != nil {
		t.Fatal(err)
	}
	desc, err := dom.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var parsed libvirtxml.Domain
	if err := parsed.Unmarshal(desc); err != nil {
		t.Fatal(err)
	}
	got, err := unmarshalMetadata(parsed.Metadata.XML)
	if err != nil || got != spec.Metadata {
		t.Fatalf("metadata = %q, %v; want %q", got, err, spec.Metadata)
	}
}

func TestBuildDomainRejects(t *testing.T) {
	ok := goldenSpecs()["tcg-disk-boot"].spec
	for name, mutate := range map[string]func(*hypervisor.Spec){
		"no name":           func(s *hypervisor.Spec) { s.Name = "" },
		"no memory":         func(s *hypervisor.Spec) { s.MemoryMiB = 0 },
		"no vcpus":          func(s *hypervisor.Spec) { s.VCPUs = 0 },
		"format left blank": func(s *hypervisor.Spec) { s.Disks[0].Format = "" },
		"unknown format":    func(s *hypervisor.Spec) { s.Disks[0].Format = "vmdk" },
		"cmdline no kernel": func(s *hypervisor.Spec) { s.Cmdline = "console=ttyS0" },
		"nothing to boot":   func(s *hypervisor.Spec) { s.Disks = nil },
		"nic without mac":   func(s *hypervisor.Spec) { s.NICs[0].MAC = "" },
		"nul in metadata":   func(s *hypervisor.Spec) { s.Metadata = "a\x00b" },
		"invalid utf-8":     func(s *hypervisor.Spec) { s.Metadata = "a\xffb" },
		"empty channel":     func(s *hypervisor.Spec) { s.Channels = []string{""} },
		"channel with /":    func(s *hypervisor.Spec) { s.Channels = []string{"../../etc/passwd"} },
		"channel uppercase": func(s *hypervisor.Spec) { s.Channels = []string{"Org.kumo"} },
		"channel too long":  func(s *hypervisor.Spec) { s.Channels = []string{strings.Repeat("a", 65)} },
		"channel twice":     func(s *hypervisor.Spec) { s.Channels = []string{"org.kumo.a", "org.kumo.a"} },
	} {
		spec := ok
		spec.Disks = append([]hypervisor.Disk(nil), ok.Disks...)
		spec.NICs = append([]hypervisor.NIC(nil), ok.NICs...)
		mutate(&spec)
		if _, err := BuildDomain(spec, hypervisor.AccelTCG); err == nil {
			t.Errorf("%s: BuildDomain accepted %+v", name, spec)
		}
	}
	if _, err := BuildDomain(ok, "hvf"); err == nil {
		t.Error("BuildDomain accepted accel hvf")
	}
}

func TestDiskName(t *testing.T) {
	for i, want := range map[int]string{0: "vda", 1: "vdb", 25: "vdz", 26: "vdaa", 27: "vdab", 51: "vdaz", 52: "vdba", 701: "vdzz", 702: "vdaaa"} {
		if got := diskName(i); got != want {
			t.Errorf("diskName(%d) = %s, want %s", i, got, want)
		}
	}
}

// libvirt rewrites what it is given; these are the settings that matter
// and that a silent rewrite would break.
func TestDefinedXMLKeepsSettings(t *testing.T) {
	d := newTestDriver(t)
	defer d.Close()
	spec := goldenSpecs()["tcg-kernel-boot"].spec
	spec.Name, spec.UUID = "i-xmlcheck", ""
	if err := d.Define(ctx(t), spec); err != nil {
		t.Fatal(err)
	}
	defer d.Undefine(ctx(t), spec.Name)
	dom, err := d.conn.LookupDomainByName(spec.Name)
	if err != nil {
		t.Fatal(err)
	}
	defer dom.Free()
	desc, err := dom.GetXMLDesc(0)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<driver name='qemu' type='qcow2'/>",
		"<driver name='qemu' type='raw'/>",
		"<target dev='vdb' bus='virtio'/>",
		"<readonly/>",
		"<rom enabled='no'/>",
		"<log file='" + spec.ConsoleLog + "' append='on'/>",
		"<memballoon model='none'/>",
		"<acpi/>",
		"<on_crash>destroy</on_crash>",
		"<controller type='virtio-serial' index='0'",
		"<target type='virtio' name='org.kumo.identity'/>",
		"<target type='virtio' name='org.kumo.second'/>",
	} {
		if !strings.Contains(desc, want) {
			t.Errorf("defined XML lacks %s:\n%s", want, desc)
		}
	}
}
