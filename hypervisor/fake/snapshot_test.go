package fake_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"

	"kumo/hypervisor"
	"kumo/hypervisor/fake"
)

const identity = "org.kumo.identity"

func channelSpec(name string) hypervisor.Spec {
	return hypervisor.Spec{Name: name, VCPUs: 1, MemoryMiB: 128,
		Disks:    []hypervisor.Disk{{Path: "/disks/" + name, Format: hypervisor.FormatQCOW2}},
		NICs:     []hypervisor.NIC{{MAC: "52:54:00:00:00:01", Network: "kumo"}},
		Channels: []string{identity}}
}

func TestTemplateLifecycle(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	for _, name := range []string{"tmpl", "i-1"} {
		if err := d.Define(ctx, channelSpec(name)); err != nil {
			t.Fatal(err)
		}
	}
	if err := d.Start(ctx, "tmpl"); err != nil {
		t.Fatal(err)
	}
	if err := d.WriteChannel(ctx, "tmpl", identity, []byte("early\n")); err == nil {
		t.Fatal("WriteChannel before the guest opened the channel succeeded")
	}
	if err := d.SetChannelConnected("tmpl", identity, true); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "memory.save")
	if err := d.SaveMemory(ctx, "tmpl", path); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(path); err != nil || st.Size() == 0 {
		t.Fatalf("SaveMemory wrote no file: %v", err)
	}
	if ok, _ := d.ChannelConnected(ctx, "tmpl", identity); ok {
		t.Fatal("a saved domain's channel is still connected")
	}

	if err := d.RestoreMemory(ctx, path, channelSpec("i-1")); err != nil {
		t.Fatal(err)
	}
	if from, ok := d.RestoredFrom("i-1"); !ok || from != path {
		t.Fatalf("RestoredFrom = %q, %v; want %s", from, ok, path)
	}
	// The saved guest was reading its channel; so is every copy.
	if ok, err := d.ChannelConnected(ctx, "i-1", identity); err != nil || !ok {
		t.Fatalf("ChannelConnected after restore = %v, %v", ok, err)
	}
	data := []byte("kumo.id=i-1\n")
	if err := d.WriteChannel(ctx, "i-1", identity, data); err != nil {
		t.Fatal(err)
	}
	data[0] = 'X' // the caller's buffer is theirs again
	got := d.Written("i-1", identity)
	if len(got) != 1 || string(got[0]) != "kumo.id=i-1\n" {
		t.Fatalf("Written = %q", got)
	}
	got[0][0] = 'Y'
	if string(d.Written("i-1", identity)[0]) != "kumo.id=i-1\n" {
		t.Fatal("Written returned the fake's own buffer")
	}

	if err := d.Destroy(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if ok, err := d.ChannelConnected(ctx, "i-1", identity); err != nil || ok {
		t.Fatalf("ChannelConnected of a stopped domain = %v, %v", ok, err)
	}
	if err := d.WriteChannel(ctx, "i-1", identity, data); !errors.Is(err, hypervisor.ErrInvalidState) {
		t.Fatalf("WriteChannel to a stopped domain = %v", err)
	}
	// A cold boot starts with nothing open and is not a restore.
	if err := d.Start(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if ok, _ := d.ChannelConnected(ctx, "i-1", identity); ok {
		t.Fatal("channel connected right after a cold boot")
	}
	if _, ok := d.RestoredFrom("i-1"); ok {
		t.Fatal("RestoredFrom after a cold boot")
	}
	if err := d.Destroy(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if err := d.Undefine(ctx, "i-1"); err != nil {
		t.Fatal(err)
	}
	if len(d.Written("i-1", identity)) != 1 {
		t.Fatal("Written forgot after Undefine")
	}
}

func TestSetChannelConnectedErrors(t *testing.T) {
	d := fake.New(fake.Options{})
	if err := d.SetChannelConnected("nope", identity, true); !errors.Is(err, hypervisor.ErrNotFound) {
		t.Fatalf("missing domain: %v", err)
	}
	if err := d.Define(context.Background(), channelSpec("i-1")); err != nil {
		t.Fatal(err)
	}
	if err := d.SetChannelConnected("i-1", identity, true); !errors.Is(err, hypervisor.ErrInvalidState) {
		t.Fatalf("stopped domain: %v", err)
	}
	if err := d.SetChannelConnected("i-1", "org.kumo.other", false); err == nil {
		t.Fatal("unknown channel accepted")
	}
}

func TestFailNextSnapshotAndChannel(t *testing.T) {
	ctx := context.Background()
	d := fake.New(fake.Options{})
	for _, name := range []string{"tmpl", "i-1"} {
		if err := d.Define(ctx, channelSpec(name)); err != nil {
			t.Fatal(err)
		}
	}
	d.Start(ctx, "tmpl")
	d.SetChannelConnected("tmpl", identity, true)
	boom := errors.New("boom")
	path := filepath.Join(t.TempDir(), "memory.save")

	d.FailNext("save", boom)
	if err := d.SaveMemory(ctx, "tmpl", path); !errors.Is(err, boom) {
		t.Fatalf("SaveMemory = %v, want boom", err)
	}
	if _, err := os.Stat(path); !os.IsNotExist(err) {
		t.Fatal("a failed SaveMemory wrote the file")
	}
	d.FailNext("channel-connected", boom)
	if _, err := d.ChannelConnected(ctx, "tmpl", identity); !errors.Is(err, boom) {
		t.Fatalf("ChannelConnected = %v, want boom", err)
	}
	d.FailNext("write-channel", boom)
	if err := d.WriteChannel(ctx, "tmpl", identity, []byte("x")); !errors.Is(err, boom) {
		t.Fatalf("WriteChannel = %v, want boom", err)
	}
	if len(d.Written("tmpl", identity)) != 0 {
		t.Fatal("a failed WriteChannel was recorded")
	}
	if err := d.SaveMemory(ctx, "tmpl", path); err != nil {
		t.Fatal(err)
	}
	d.FailNext("restore", boom)
	if err := d.RestoreMemory(ctx, path, channelSpec("i-1")); !errors.Is(err, boom) {
		t.Fatalf("RestoreMemory = %v, want boom", err)
	}
	if dom, _ := d.Inspect(ctx, "i-1"); dom.State != hypervisor.PowerShutoff {
		t.Fatalf("a failed RestoreMemory left i-1 %s", dom.State)
	}
	if err := d.RestoreMemory(ctx, path, channelSpec("i-1")); err != nil {
		t.Fatal(err)
	}
}
