package devcluster

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

// host is where simulated host N keeps its pieces. Every name and path
// derives from N and the cluster's options, so Up, List and Down agree
// without a registry of their own.
type host struct {
	n      int
	netns  string
	uplink string // the data plane's namespace, or "" for none
	// network is the libvirt network instances attach to, under the same
	// name on every host, so that an instance's definition does not
	// depend on the host it lands on.
	network string
	run     string // RunRoot/hN
	state   string // StateRoot/hN
}

func (c *Cluster) host(n int) host {
	name := "h" + strconv.Itoa(n)
	return host{
		n:       n,
		netns:   c.opts.Prefix + strconv.Itoa(n),
		uplink:  c.opts.Uplink,
		network: c.opts.Network,
		run:     filepath.Join(c.opts.RunRoot, name),
		state:   filepath.Join(c.opts.StateRoot, name),
	}
}

func (h host) name() string    { return "h" + strconv.Itoa(h.n) }
func (h host) bridge() string  { return "kumobr" + strconv.Itoa(h.n) }
func (h host) subnet() string  { return fmt.Sprintf("10.77.%d.0/24", h.n) }
func (h host) gateway() string { return fmt.Sprintf("10.77.%d.1", h.n) }

// runLibvirt is the host's /run/libvirt, seen from the root namespace.
func (h host) runLibvirt() string { return filepath.Join(h.run, "run-libvirt") }

func (h host) uri() string {
	return "qemu+unix:///system?socket=" + filepath.Join(h.runLibvirt(), "libvirt-sock")
}

func (h host) public() Host {
	return Host{Name: h.name(), URI: h.uri(), Netns: h.netns, Bridge: h.bridge(), Subnet: h.subnet()}
}

// bind is a directory of the host's mounted over the machine's one in the
// mount namespace of the host's daemons.
type bind struct{ source, target string }

// binds are the places libvirt keeps state in, each private to the host.
// /var/lib/kumo stays the machine's, so guests read kumo's disks there.
func (h host) binds() []bind {
	return []bind{
		{h.runLibvirt(), "/run/libvirt"},
		{filepath.Join(h.state, "etc-libvirt"), "/etc/libvirt"},
		{filepath.Join(h.state, "lib-libvirt"), "/var/lib/libvirt"},
		{filepath.Join(h.state, "cache-libvirt"), "/var/cache/libvirt"},
		{filepath.Join(h.state, "log-libvirt"), "/var/log/libvirt"},
	}
}

// prepareDirs makes the host's directories and writes its daemons'
// configs. Its copy of /etc/libvirt is made once: it holds the domains and
// networks defined on the host, which outlive a restart of its daemons.
func (h host) prepareDirs() error {
	for _, b := range h.binds() {
		if b.target == "/etc/libvirt" {
			continue
		}
		if err := os.MkdirAll(b.source, 0o755); err != nil {
			return fmt.Errorf("dev cluster: %s: %w", h.name(), err)
		}
	}
	etc := filepath.Join(h.state, "etc-libvirt")
	if _, err := os.Stat(etc); errors.Is(err, os.ErrNotExist) {
		if err := copyEtc(etc); err != nil {
			return fmt.Errorf("dev cluster: %s: copy /etc/libvirt: %w", h.name(), err)
		}
	}
	for _, d := range h.daemons() {
		if err := os.WriteFile(d.conf, []byte(d.config()), 0o644); err != nil {
			return fmt.Errorf("dev cluster: %s: write %s config: %w", h.name(), d.name, err)
		}
	}
	return nil
}

// copyEtc gives a host the machine's libvirt configuration (qemu.conf, the
// stock network filters) and none of its definitions, which live in the
// other subdirectories (qemu/, qemu/networks/, secrets/, storage/). The copy
// is built aside and renamed, so a half-made one is never taken as done.
func copyEtc(dst string) error {
	tmp := dst + ".tmp"
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	for _, dir := range []string{"", "nwfilter"} {
		if err := os.MkdirAll(filepath.Join(tmp, dir), 0o755); err != nil {
			return err
		}
		entries, err := os.ReadDir(filepath.Join("/etc/libvirt", dir))
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		for _, e := range entries {
			if !e.Type().IsRegular() {
				continue
			}
			if err := copyFile(filepath.Join("/etc/libvirt", dir, e.Name()), filepath.Join(tmp, dir, e.Name())); err != nil {
				return err
			}
		}
	}
	return os.Rename(tmp, dst)
}

func copyFile(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	return os.WriteFile(dst, b, fi.Mode().Perm())
}

// found returns the numbers of the hosts that have anything on this
// machine: a directory or a namespace.
func (c *Cluster) found() ([]int, error) {
	var names []string
	for _, root := range []string{c.opts.RunRoot, c.opts.StateRoot} {
		entries, err := os.ReadDir(root)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("dev cluster: %w", err)
		}
		for _, e := range entries {
			if n, ok := strings.CutPrefix(e.Name(), "h"); ok && e.IsDir() {
				names = append(names, n)
			}
		}
	}
	nss, err := namespaces()
	if err != nil {
		return nil, err
	}
	for _, ns := range nss {
		if n, ok := strings.CutPrefix(ns, c.opts.Prefix); ok {
			names = append(names, n)
		}
	}
	var out []int
	for _, s := range names {
		if n, err := strconv.Atoi(s); err == nil && n >= 1 && strconv.Itoa(n) == s {
			out = append(out, n)
		}
	}
	slices.Sort(out)
	return slices.Compact(out), nil
}
