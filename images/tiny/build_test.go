package tiny

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

var (
	testKernel  = deb{"linux-image-6.1.0-99-cloud-amd64", "6.1.999-1", strings.Repeat("a", 64)}
	testBusybox = deb{"busybox-static", "1:1.35.0-4", strings.Repeat("b", 64)}
)

func TestDigestFollowsInputs(t *testing.T) {
	base, err := computeDigest(testKernel, testBusybox)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := computeDigest(testKernel, testBusybox)
	if base != again || len(base) != 64 {
		t.Fatalf("digest not stable: %s then %s", base, again)
	}
	changed := map[string][2]deb{
		"kernel version": {{testKernel.Name, "6.1.999-2", testKernel.SHA256}, testBusybox},
		"kernel hash":    {{testKernel.Name, testKernel.Version, strings.Repeat("c", 64)}, testBusybox},
		"kernel name":    {{"linux-image-6.1.0-100-cloud-amd64", testKernel.Version, testKernel.SHA256}, testBusybox},
		"busybox":        {testKernel, {testBusybox.Name, "1:1.36.1-1", testBusybox.SHA256}},
	}
	for what, in := range changed {
		d, _ := computeDigest(in[0], in[1])
		if d == base {
			t.Errorf("changing the %s left the digest as it was", what)
		}
	}
}

func TestGuestFilesAreInTheDigest(t *testing.T) {
	in, err := guestDigestInput()
	if err != nil {
		t.Fatal(err)
	}
	script, _ := guest.ReadFile("guest/init.sh")
	if !bytes.Contains(in, script) {
		t.Fatal("init.sh is not part of the digest input")
	}
}

// fakeImage writes the files of a finished build made from the test
// packages.
func fakeImage(t *testing.T) (string, Artifacts) {
	t.Helper()
	dir := t.TempDir()
	digest, err := computeDigest(testKernel, testBusybox)
	if err != nil {
		t.Fatal(err)
	}
	m := manifest{Digest: digest, BuildVersion: buildVersion, Kernel: testKernel, Busybox: testBusybox,
		KernelFile: kernelFile, InitrdFile: initrdFile, DiskFile: diskFile}
	for _, f := range []string{kernelFile, initrdFile, diskFile} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := m.write(dir); err != nil {
		t.Fatal(err)
	}
	return dir, m.artifacts(dir)
}

func stubResolve(t *testing.T, k, b deb, err error) *int {
	calls := new(int)
	old := resolve
	resolve = func(context.Context) (deb, deb, error) { *calls++; return k, b, err }
	t.Cleanup(func() { resolve = old })
	return calls
}

func TestBuildSkipsWhenNothingChanged(t *testing.T) {
	fakeAptState(t)
	dir, want := fakeImage(t)
	calls := stubResolve(t, testKernel, testBusybox, nil)
	var progress bytes.Buffer
	got, err := Build(context.Background(), dir, &progress)
	if err != nil {
		t.Fatal(err)
	}
	if got != want {
		t.Fatalf("got %+v, want %+v", got, want)
	}
	if *calls != 1 || !strings.Contains(progress.String(), "up to date") {
		t.Fatalf("resolve called %d times, progress %q", *calls, progress.String())
	}
	for _, p := range []string{got.Kernel, got.Initrd, got.Disk} {
		if !filepath.IsAbs(p) {
			t.Errorf("%s is not absolute", p)
		}
	}
}

// fakeAptState points aptState at a list file of the test's own.
func fakeAptState(t *testing.T) string {
	dir := t.TempDir()
	list := filepath.Join(dir, "lists", "deb.example_Packages")
	os.MkdirAll(filepath.Dir(list), 0o755)
	if err := os.WriteFile(list, []byte("Package: x\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	old := aptStatePaths
	aptStatePaths = []string{filepath.Join(dir, "lists", "*"), filepath.Join(dir, "sources.list")}
	t.Cleanup(func() { aptStatePaths = old })
	return list
}

func TestBuildSkipsAptWhenListsUnchanged(t *testing.T) {
	list := fakeAptState(t)
	dir, want := fakeImage(t)
	calls := stubResolve(t, testKernel, testBusybox, nil)
	// The first check asks apt and records the state of its lists.
	for i, wantCalls := range []int{1, 1, 1} {
		got, err := Build(context.Background(), dir, nil)
		if err != nil || got != want {
			t.Fatalf("build %d: %+v, %v", i, got, err)
		}
		if *calls != wantCalls {
			t.Fatalf("build %d: resolve called %d times in all, want %d", i, *calls, wantCalls)
		}
	}
	if err := os.WriteFile(list, []byte("Package: x\nVersion: 2\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Build(context.Background(), dir, nil); err != nil {
		t.Fatal(err)
	}
	if *calls != 2 {
		t.Fatalf("changed lists did not send the build to apt (%d calls)", *calls)
	}
}

func TestAptStateNeedsLists(t *testing.T) {
	old := aptStatePaths
	aptStatePaths = []string{filepath.Join(t.TempDir(), "none", "*")}
	defer func() { aptStatePaths = old }()
	if s := aptState(); s != "" {
		t.Fatalf("aptState without lists = %q", s)
	}
}

func TestManifestCompleteNeedsEveryFile(t *testing.T) {
	dir, _ := fakeImage(t)
	m, ok := readManifest(dir)
	if !ok || !m.complete(dir) {
		t.Fatal("fresh image not complete")
	}
	for _, f := range []string{kernelFile, initrdFile, diskFile} {
		t.Run(f, func(t *testing.T) {
			dir, _ := fakeImage(t)
			os.Remove(filepath.Join(dir, f))
			if m.complete(dir) {
				t.Errorf("complete without %s", f)
			}
		})
	}
	// A manifest naming files outside the folder is not trusted.
	bad := m
	bad.DiskFile = "../root.qcow2"
	if bad.complete(dir) {
		t.Error("complete with a path outside the folder")
	}
	os.WriteFile(filepath.Join(dir, manifestFile), []byte("{"), 0o644)
	if _, ok := readManifest(dir); ok {
		t.Error("corrupt manifest accepted")
	}
}

func TestBuildUsesOldImageWhenOffline(t *testing.T) {
	fakeAptState(t)
	dir, want := fakeImage(t)
	stubResolve(t, deb{}, deb{}, errors.New("apt-cache: network is down"))
	var progress bytes.Buffer
	got, err := Build(context.Background(), dir, &progress)
	if err != nil || got != want {
		t.Fatalf("got %+v, %v; want %+v", got, err, want)
	}
	// With nothing built before, the error is the caller's to see.
	if _, err := Build(context.Background(), t.TempDir(), nil); err == nil {
		t.Fatal("offline build with no earlier image succeeded")
	}
}

func TestParseAptOutput(t *testing.T) {
	dep := kernelFromDepends([]byte("linux-image-cloud-amd64\n  Depends: linux-image-6.1.0-56-cloud-amd64\n"))
	if dep != "linux-image-6.1.0-56-cloud-amd64" {
		t.Errorf("kernelFromDepends = %q", dep)
	}
	if dep := kernelFromDepends([]byte("x\n  Depends: <linux-image-virtual>\n")); dep != "" {
		t.Errorf("virtual package taken: %q", dep)
	}
	out := "'http://deb.example/pool/main/b/busybox/busybox-static_1.35.0-4%2bdeb12u1%2bb1_amd64.deb' busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb 928188 SHA256:3D3FDBE91D4660C873E14B092C213FE81C1DA6362DAA236EB25D0171EB108744\n" +
		"'http://deb.example/pool/l/linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb' linux-image-6.1.0-56-cloud-amd64_6.1.192-2_amd64.deb 26713492 SHA256:e7d02b943971edcb8790e256c02cfab3bca6c3d37c1bf25392a57c71300615ee\n"
	got, err := parsePrintURIs([]byte(out))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]deb{
		"busybox-static":                   {"busybox-static", "1:1.35.0-4+deb12u1+b1", "3d3fdbe91d4660c873e14b092c213fe81c1da6362daa236eb25d0171eb108744"},
		"linux-image-6.1.0-56-cloud-amd64": {"linux-image-6.1.0-56-cloud-amd64", "6.1.192-2", "e7d02b943971edcb8790e256c02cfab3bca6c3d37c1bf25392a57c71300615ee"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("parsePrintURIs = %+v, want %+v", got, want)
	}
	if _, err := parsePrintURIs([]byte("'u' f_1_amd64.deb 1 MD5Sum:abc\n")); err == nil {
		t.Error("a line without SHA256 was accepted")
	}
}

func TestDebFileName(t *testing.T) {
	if got := (deb{Name: "busybox-static", Version: "1:1.35.0-4+deb12u1+b1"}).fileName(); got != "busybox-static_1%3a1.35.0-4+deb12u1+b1_amd64.deb" {
		t.Fatal(got)
	}
}

func TestUUIDFrom(t *testing.T) {
	if got := uuidFrom("0123456789abcdef0123456789abcdefffff"); got != "01234567-89ab-cdef-0123-456789abcdef" {
		t.Fatal(got)
	}
}
