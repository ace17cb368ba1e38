package libvirt

import (
	"encoding/xml"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"kumo/hypervisor"
)

// testdata/saved-qemu-9.0.xml is the XML libvirt 9.0 stored in the header
// of a real save image of a kumo-tiny guest (paths renamed). Its disks end
// in <backingStore/>, which is what makes keeping them dangerous.
func savedFixture(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "saved-qemu-9.0.xml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func restoreSpec() hypervisor.Spec {
	dir := "/var/lib/kumo/instances/i-0a1b2c3d4e5f60718"
	return hypervisor.Spec{
		Name:      "i-0a1b2c3d4e5f60718",
		VCPUs:     1,
		MemoryMiB: 512,
		Kernel:    "/var/lib/kumo/images/ami-1/vmlinux",
		Cmdline:   "console=ttyS0 kumo.id=i-0a1b2c3d4e5f60718",
		Disks: []hypervisor.Disk{
			{Path: dir + "/root.qcow2", Format: hypervisor.FormatQCOW2},
			{Path: dir + "/seed.tar", Format: hypervisor.FormatRaw, ReadOnly: true},
		},
		NICs:       []hypervisor.NIC{{MAC: "52:54:00:12:34:56", Network: "kumo-other"}},
		ConsoleLog: dir + "/console.log",
		Metadata:   `{"instance":"i-0a1b2c3d4e5f60718"} <&>`,
		Channels:   []string{"org.kumo.identity"},
	}
}

func TestRestoreDomainRewritesOnlyIdentity(t *testing.T) {
	orig := savedFixture(t)
	spec := restoreSpec()
	const uuid = "9e1c1f4a-2b3c-4d5e-8f90-a1b2c3d4e5f6"
	var def libvirtxml.Domain
	if err := def.Unmarshal(orig); err != nil {
		t.Fatal(err)
	}
	if err := restoreDomain(&def, spec, uuid); err != nil {
		t.Fatal(err)
	}
	got, err := def.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"<name>" + spec.Name + "</name>",
		"<uuid>" + uuid + "</uuid>",
		`<source file="` + spec.Disks[0].Path + `"></source>`,
		`<source file="` + spec.Disks[1].Path + `"></source>`,
		`<log file="` + spec.ConsoleLog + `" append="on"></log>`,
		`<source network="kumo-other"></source>`,
		`<source mode="bind"></source>`,
		"&lt;&amp;&gt;", // the metadata, escaped
		// Guest ABI stays as saved.
		`<mac address="52:54:00:00:00:01"></mac>`,
		"kumo.wait=identity</cmdline>",
		`<memory unit="KiB">524288</memory>`,
	} {
		if !strings.Contains(got, want) {
			t.Errorf("rewritten XML lacks %s", want)
		}
	}
	if strings.Contains(got, "backingStore") || strings.Contains(got, "templates/ami-1") {
		t.Errorf("rewritten XML keeps the saved domain's disks:\n%s", got)
	}

	// Everything else must survive the trip through libvirtxml: a lost
	// device would be missing when QEMU loads the saved state.
	const devs = "/domain[0]/devices[0]/"
	changed := []string{
		"/domain[0]/name[0]", "/domain[0]/uuid[0]", "/domain[0]/metadata[0]",
		devs + "disk[0]/source[0]", devs + "disk[0]/backingStore[0]",
		devs + "disk[1]/source[0]", devs + "disk[1]/backingStore[0]",
		devs + "interface[0]/source[0]",
		devs + "serial[0]/log[0]", devs + "console[0]/log[0]",
		devs + "channel[0]/source[0]",
	}
	before, after := xmlFacts(t, orig), xmlFacts(t, got)
	for _, diff := range []struct {
		what string
		a, b map[string]bool
	}{{"lost", before, after}, {"added", after, before}} {
		for f := range diff.a {
			if !diff.b[f] && !hasAnyPrefix(f, changed) {
				t.Errorf("%s: %s", diff.what, f)
			}
		}
	}
}

func TestRestoreDomainChecksShape(t *testing.T) {
	for name, mutate := range map[string]func(*hypervisor.Spec){
		"vcpus":          func(s *hypervisor.Spec) { s.VCPUs = 2 },
		"memory":         func(s *hypervisor.Spec) { s.MemoryMiB = 256 },
		"one disk less":  func(s *hypervisor.Spec) { s.Disks = s.Disks[:1] },
		"disk format":    func(s *hypervisor.Spec) { s.Disks[0].Format = hypervisor.FormatRaw },
		"disk read-only": func(s *hypervisor.Spec) { s.Disks[1].ReadOnly = false },
		"no NIC":         func(s *hypervisor.Spec) { s.NICs = nil },
		"other channel":  func(s *hypervisor.Spec) { s.Channels = []string{"org.kumo.other"} },
		"no channel":     func(s *hypervisor.Spec) { s.Channels = nil },
	} {
		spec := restoreSpec()
		mutate(&spec)
		var def libvirtxml.Domain
		if err := def.Unmarshal(savedFixture(t)); err != nil {
			t.Fatal(err)
		}
		if err := restoreDomain(&def, spec, "9e1c1f4a-2b3c-4d5e-8f90-a1b2c3d4e5f6"); err == nil {
			t.Errorf("%s: restoreDomain accepted a spec of another shape", name)
		}
	}
}

func TestMemoryKiB(t *testing.T) {
	for _, tc := range []struct {
		m    libvirtxml.DomainMemory
		want uint64
	}{
		{libvirtxml.DomainMemory{Value: 524288, Unit: "KiB"}, 524288},
		{libvirtxml.DomainMemory{Value: 524288}, 524288},
		{libvirtxml.DomainMemory{Value: 512, Unit: "MiB"}, 524288},
		{libvirtxml.DomainMemory{Value: 2, Unit: "G"}, 2 << 20},
		{libvirtxml.DomainMemory{Value: 1 << 30, Unit: "bytes"}, 1 << 20},
	} {
		if got, err := memoryKiB(&tc.m); err != nil || got != tc.want {
			t.Errorf("memoryKiB(%+v) = %d, %v; want %d", tc.m, got, err, tc.want)
		}
	}
	if _, err := memoryKiB(&libvirtxml.DomainMemory{Value: 1, Unit: "pages"}); err == nil {
		t.Error("memoryKiB accepted an unknown unit")
	}
}

// xmlFacts lists every element, attribute and text of a document as
// "path", "path@attr=value" and "path=text", where a path numbers the
// siblings of one name: domain[0]/devices[0]/disk[1]/source[0].
func xmlFacts(t *testing.T, doc string) map[string]bool {
	t.Helper()
	facts := map[string]bool{}
	type frame struct {
		path  string
		count map[string]int
		text  strings.Builder
	}
	stack := []*frame{{count: map[string]int{}}}
	dec := xml.NewDecoder(strings.NewReader(doc))
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			return facts
		}
		if err != nil {
			t.Fatal(err)
		}
		top := stack[len(stack)-1]
		switch tok := tok.(type) {
		case xml.StartElement:
			name := tok.Name.Local
			path := fmt.Sprintf("%s/%s[%d]", top.path, name, top.count[name])
			top.count[name]++
			facts[path] = true
			for _, a := range tok.Attr {
				facts[fmt.Sprintf("%s@%s=%s", path, a.Name.Local, a.Value)] = true
			}
			stack = append(stack, &frame{path: path, count: map[string]int{}})
		case xml.CharData:
			top.text.Write(tok)
		case xml.EndElement:
			if s := strings.TrimSpace(top.text.String()); s != "" {
				facts[top.path+"="+s] = true
			}
			stack = stack[:len(stack)-1]
		}
	}
}

func hasAnyPrefix(s string, prefixes []string) bool {
	for _, p := range prefixes {
		if strings.HasPrefix(s, p) {
			return true
		}
	}
	return false
}
