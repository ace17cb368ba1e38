// Package conformance is the behaviour every hypervisor.Driver must share,
// written once as a test suite that each driver's tests run (the pattern of
// Nomad's plugins/drivers/testutils). The control plane is tested against
// the fake; this suite is what makes that worth anything for libvirt.
//
// It owns the executable reading of the contract in package hypervisor and
// must not know about any particular driver or anything else in kumo.
package conformance

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"testing"
	"time"

	"kumo/hypervisor"
)

// Options adapts the suite to the host a driver manages.
type Options struct {
	// Network is an existing hypervisor network the test domains attach
	// to; default "kumo".
	Network string
	// EventTimeout bounds the wait for each expected event; default 5s.
	EventTimeout time.Duration
}

// Run runs the suite. newDriver is called once per subtest and must return
// a usable driver; Run closes it when the subtest ends. Drivers may share
// state between calls (the libvirt test driver does per process), so every
// subtest uses its own domain names and removes its domains afterwards, and
// the suite tolerates domains it did not create.
func Run(t *testing.T, newDriver func(t *testing.T) hypervisor.Driver, opts ...Options) {
	s := &suite{newDriver: newDriver}
	if len(opts) > 0 {
		s.opts = opts[0]
	}
	if s.opts.Network == "" {
		s.opts.Network = "kumo"
	}
	if s.opts.EventTimeout <= 0 {
		s.opts.EventTimeout = 5 * time.Second
	}
	for _, tc := range []struct {
		name string
		fn   func(*testing.T)
	}{
		{"DefineInspect", s.testDefineInspect},
		{"DefineEmptyMetadata", s.testDefineEmptyMetadata},
		{"DefineTwice", s.testDefineTwice},
		{"Start", s.testStart},
		{"StartTwice", s.testStartTwice},
		{"ShutdownStopped", s.testShutdownStopped},
		{"ShutdownRunning", s.testShutdownRunning},
		{"Reboot", s.testReboot},
		{"Destroy", s.testDestroy},
		{"UndefineRunning", s.testUndefineRunning},
		{"Undefine", s.testUndefine},
		{"MissingDomain", s.testMissingDomain},
		{"List", s.testList},
		{"Concurrent", s.testConcurrent},
		{"Events", s.testEvents},
		{"EventsSeveralSubscribers", s.testEventsSeveralSubscribers},
		{"Host", s.testHost},
		{"Network", s.testNetwork},
		// Optional interfaces: each skips unless the driver has it.
		{"SaveRestore", s.testSaveRestore},
		{"SaveReplacesAtomically", s.testSaveReplacesAtomically},
		{"RestoreConcurrently", s.testRestoreConcurrently},
		{"SnapshotErrors", s.testSnapshotErrors},
		{"ChannelStopped", s.testChannelStopped},
		{"ChannelErrors", s.testChannelErrors},
		{"ChannelNotOpened", s.testChannelNotOpened},
	} {
		t.Run(tc.name, tc.fn)
	}
}

type suite struct {
	opts      Options
	newDriver func(t *testing.T) hypervisor.Driver
}

func (s *suite) driver(t *testing.T) hypervisor.Driver {
	t.Helper()
	d := s.newDriver(t)
	t.Cleanup(func() {
		if err := d.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return d
}

// spec is shaped like what kumo defines for an instance: direct kernel
// boot, a qcow2 root overlay, a raw read-only seed disk, one NIC, a
// console log and the identity channel. Drivers must not need the files to
// exist until Start.
func (s *suite) spec(name string) hypervisor.Spec {
	dir := "/var/lib/kumo/instances/" + name
	return hypervisor.Spec{
		Name:      name,
		VCPUs:     1,
		MemoryMiB: 256,
		Kernel:    "/var/lib/kumo/images/ami-conformance/vmlinuz",
		Initrd:    "/var/lib/kumo/images/ami-conformance/initrd.img",
		Cmdline:   "console=ttyS0 root=/dev/vda rw quiet",
		Disks: []hypervisor.Disk{
			{Path: dir + "/root.qcow2", Format: hypervisor.FormatQCOW2},
			{Path: dir + "/seed.img", Format: hypervisor.FormatRaw, ReadOnly: true},
		},
		NICs:       []hypervisor.NIC{{MAC: randomMAC(), Network: s.opts.Network}},
		ConsoleLog: dir + "/console.log",
		// Characters that break naive XML or JSON handling, and a newline.
		Metadata: fmt.Sprintf("{\"instance\":%q,\"note\":\"<&> ' \\\" é\"}\nv=1", name),
		Channels: []string{identityChannel},
	}
}

// define defines a fresh domain and removes it when the test ends, even if
// the test left it running.
func (s *suite) define(t *testing.T, d hypervisor.Driver) hypervisor.Spec {
	t.Helper()
	spec := s.spec(uniqueName())
	if err := d.Define(ctx(t), spec); err != nil {
		t.Fatalf("Define(%s): %v", spec.Name, err)
	}
	t.Cleanup(func() {
		c, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := d.Destroy(c, spec.Name); err != nil && !errors.Is(err, hypervisor.ErrNotFound) {
			t.Errorf("cleanup: Destroy(%s): %v", spec.Name, err)
		}
		if err := d.Undefine(c, spec.Name); err != nil {
			t.Errorf("cleanup: Undefine(%s): %v", spec.Name, err)
		}
	})
	return spec
}

func (s *suite) start(t *testing.T, d hypervisor.Driver, name string) {
	t.Helper()
	if err := d.Start(ctx(t), name); err != nil {
		t.Fatalf("Start(%s): %v", name, err)
	}
}

func ctx(t *testing.T) context.Context {
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// identityChannel is the channel every test domain has, named like the
// one kumo gives instances.
const identityChannel = "org.kumo.identity"

func uniqueName() string { return "i-conf" + randomHex(6) }

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func randomMAC() string {
	b := make([]byte, 3)
	_, _ = rand.Read(b)
	return fmt.Sprintf("52:54:00:%02x:%02x:%02x", b[0], b[1], b[2])
}

func wantState(t *testing.T, d hypervisor.Driver, name string, want hypervisor.PowerState) {
	t.Helper()
	dom, err := d.Inspect(ctx(t), name)
	if err != nil {
		t.Fatalf("Inspect(%s): %v", name, err)
	}
	if dom.State != want {
		t.Fatalf("Inspect(%s).State = %s, want %s", name, dom.State, want)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: err = %v, want errors.Is(err, %q)", what, err, want)
	}
}
