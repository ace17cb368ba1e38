package tiny

import (
	"bytes"
	"debug/elf"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// modules are the kernel modules init loads, in this order, with insmod:
// there is no modprobe and no modules.dep in the initramfs, so every
// module must come after the ones it needs. The virtio transport is not a
// symbol dependency of the device drivers, which is why the order is
// written out rather than derived.
var modules = []string{
	"virtio_ring",
	"virtio",
	"virtio_pci_legacy_dev",
	"virtio_pci_modern_dev",
	"virtio_pci",
	"failover",
	"net_failover",
	"virtio_net",
	// The identity port of a guest restored from a saved boot.
	"virtio_console",
	"virtio_blk",
	// The power button: button turns the ACPI event into a key press and
	// evdev hands it to acpid. Without them an ACPI shutdown request is
	// ignored and the control plane has to pull the plug.
	"button",
	"evdev",
}

// lateModules are the last of modules, which init loads only once it
// serves HTTP, the sign of life the control plane waits for: under TCG
// they cost about 0.1 s it does not need to wait. They go last so that
// splitting the list keeps its order.
var lateModules = map[string]bool{"virtio_blk": true, "button": true, "evdev": true}

// splitModules returns modules as init loads them: before HTTP, and after.
func splitModules() (early, late []string) {
	for _, m := range modules {
		if lateModules[m] {
			late = append(late, m)
		} else {
			early = append(early, m)
		}
	}
	return early, late
}

// builtins are the kernel features the image relies on without loading a
// module for them. A kernel update that turned one into a module would
// otherwise boot into a guest without its root disk or console.
var builtins = []string{
	"CONFIG_BLK_DEV_INITRD",
	"CONFIG_RD_GZIP",
	"CONFIG_DEVTMPFS",
	"CONFIG_TMPFS",
	"CONFIG_SERIAL_8250_CONSOLE",
	"CONFIG_UNIX",
	"CONFIG_INET",
	"CONFIG_PACKET",
	"CONFIG_EXT4_FS",
	"CONFIG_EXT4_USE_FOR_EXT2",
	"CONFIG_ACPI",
	"CONFIG_INPUT",
}

// kernelTree is an unpacked kernel package.
type kernelTree struct {
	root    string // where the package was unpacked
	release string // e.g. 6.1.0-56-cloud-amd64
}

func (k kernelTree) vmlinuz() string { return filepath.Join(k.root, "boot", "vmlinuz-"+k.release) }
func (k kernelTree) config() string  { return filepath.Join(k.root, "boot", "config-"+k.release) }

// modulesDir is where the package keeps its modules; newer Debian kernels
// moved them under /usr.
func (k kernelTree) modulesDir() (string, error) {
	for _, d := range []string{"lib/modules", "usr/lib/modules"} {
		p := filepath.Join(k.root, d, k.release)
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			return p, nil
		}
	}
	return "", fmt.Errorf("no modules for %s under %s", k.release, k.root)
}

// checkConfig fails unless every feature in builtins is built in.
func (k kernelTree) checkConfig() error {
	data, err := os.ReadFile(k.config())
	if err != nil {
		return err
	}
	set := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		if name, val, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(line, "#") {
			set[name] = val
		}
	}
	var missing []string
	for _, b := range builtins {
		if set[b] != "y" {
			missing = append(missing, fmt.Sprintf("%s=%q", b, set[b]))
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("kernel %s lacks built-in %s", k.release, strings.Join(missing, ", "))
	}
	return nil
}

// loadModules reads the modules in load order and checks that each one's
// dependencies, as recorded in its .modinfo, are loaded before it.
func (k kernelTree) loadModules() ([][]byte, error) {
	dir, err := k.modulesDir()
	if err != nil {
		return nil, err
	}
	paths := map[string]string{}
	err = filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if name, ok := strings.CutSuffix(d.Name(), ".ko"); ok && !d.IsDir() {
			paths[moduleName(name)] = p
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if early, late := splitModules(); !slices.Equal(append(early, late...), modules) {
		return nil, fmt.Errorf("modules loaded after HTTP (%v) must come last in the list", late)
	}
	var out [][]byte
	for i, m := range modules {
		p, ok := paths[m]
		if !ok {
			return nil, fmt.Errorf("kernel %s has no module %s (compressed modules are not supported)", k.release, m)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return nil, err
		}
		deps, err := moduleDepends(data)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", p, err)
		}
		for _, d := range deps {
			if !slices.Contains(modules[:i], d) {
				return nil, fmt.Errorf("module %s needs %s, which is not loaded before it", m, d)
			}
		}
		out = append(out, data)
	}
	return out, nil
}

// moduleName normalises as the kernel does: "crc32c-intel" and
// "crc32c_intel" are the same module.
func moduleName(s string) string { return strings.ReplaceAll(s, "-", "_") }

// moduleDepends reads the depends= entry of a module's .modinfo section.
func moduleDepends(ko []byte) ([]string, error) {
	f, err := elf.NewFile(bytes.NewReader(ko))
	if err != nil {
		return nil, err
	}
	sec := f.Section(".modinfo")
	if sec == nil {
		return nil, fmt.Errorf("no .modinfo section")
	}
	info, err := sec.Data()
	if err != nil {
		return nil, err
	}
	for _, kv := range bytes.Split(info, []byte{0}) {
		if v, ok := bytes.CutPrefix(kv, []byte("depends=")); ok {
			var deps []string
			for _, d := range strings.Split(string(v), ",") {
				if d != "" {
					deps = append(deps, moduleName(d))
				}
			}
			return deps, nil
		}
	}
	return nil, nil
}
