// Package devcluster brings up and tears down simulated hosts on this
// machine, so that kumo's multi-host code runs against several real
// libvirt daemons without several machines. Each host is a virtlogd and a
// libvirtd in a network namespace of its own (its bridge, taps, dnsmasq
// and guests live there) and a mount namespace of its own (its libvirt
// state, definitions and sockets are private), reached from the root
// namespace through a unix socket.
//
// It knows namespaces, daemons and the libvirt network instances attach
// to; it must not know instances, the scheduler or the API: a simulated
// host is registered with kumod like any other host, by its URI.
package devcluster

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
)

// Where a cluster lives when Options leave it unsaid.
const (
	defaultPrefix    = "kumo-h"
	defaultRunRoot   = "/run/kumo/dev-cluster"
	defaultStateRoot = "/var/lib/kumo/dev-cluster"
	defaultUplink    = "kumo"
	defaultNetwork   = "kumo"
)

// maxHosts keeps host N's subnet, 10.77.N.0/24, a valid address range.
const maxHosts = 254

// Options place a cluster; zero fields take the defaults. Two clusters with
// different prefixes and roots never touch each other's hosts.
type Options struct {
	Prefix    string // host N's network namespace is Prefix followed by N
	RunRoot   string // sockets and pid files, which do not outlive the daemons
	StateRoot string // libvirt's definitions, caches and logs
	// Uplink is the namespace each host is routed to, kumo's data plane
	// (namespace kumo) by default; "-" links hosts to nothing.
	Uplink string
	// Network is the libvirt network of every host, kumod's --network;
	// default kumo.
	Network string
}

// Cluster manages the simulated hosts of one Options. It needs root.
type Cluster struct {
	opts     Options
	progress io.Writer
}

// Host is what kumod needs to register a simulated host.
type Host struct {
	Name   string `json:"name"`
	URI    string `json:"uri"`
	Netns  string `json:"netns"`
	Bridge string `json:"bridge"`
	Subnet string `json:"subnet"`
}

// New returns the cluster placed by opts, writing one line per step to
// progress (nil discards them).
func New(opts Options, progress io.Writer) *Cluster {
	if opts.Prefix == "" {
		opts.Prefix = defaultPrefix
	}
	if opts.RunRoot == "" {
		opts.RunRoot = defaultRunRoot
	}
	if opts.StateRoot == "" {
		opts.StateRoot = defaultStateRoot
	}
	if opts.Network == "" {
		opts.Network = defaultNetwork
	}
	switch opts.Uplink {
	case "":
		opts.Uplink = defaultUplink
	case "-":
		opts.Uplink = ""
	}
	if progress == nil {
		progress = io.Discard
	}
	return &Cluster{opts: opts, progress: progress}
}

func needRoot() error {
	if os.Geteuid() != 0 {
		return errors.New("dev cluster: run as root: it creates network namespaces, mounts and libvirt daemons")
	}
	return nil
}

func (c *Cluster) say(h host, format string, args ...any) {
	fmt.Fprintf(c.progress, "%s: %s\n", h.name(), fmt.Sprintf(format, args...))
}

// Up makes hosts h1..hn run: a host already up is left as it is, a missing
// or broken piece (namespace, daemon, network) is made again. Hosts beyond
// n are left alone.
func (c *Cluster) Up(ctx context.Context, n int) ([]Host, error) {
	if err := needRoot(); err != nil {
		return nil, err
	}
	if n < 1 || n > maxHosts {
		return nil, fmt.Errorf("dev cluster: %d hosts: want 1 to %d", n, maxHosts)
	}
	out := make([]Host, 0, n)
	for i := 1; i <= n; i++ {
		h := c.host(i)
		if err := c.up(ctx, h); err != nil {
			return out, err
		}
		out = append(out, h.public())
	}
	return out, nil
}

func (c *Cluster) up(ctx context.Context, h host) error {
	if err := h.prepareDirs(); err != nil {
		return err
	}
	if err := c.ensureNetns(ctx, h); err != nil {
		return err
	}
	if err := c.ensureUplink(ctx, h); err != nil {
		return err
	}
	for _, d := range h.daemons() {
		if err := c.ensureDaemon(ctx, h, d); err != nil {
			return err
		}
	}
	if err := c.waitAnswers(ctx, h); err != nil {
		return err
	}
	return c.ensureNetwork(ctx, h)
}

// List returns the hosts whose libvirtd runs, in order.
func (c *Cluster) List() ([]Host, error) {
	found, err := c.found()
	if err != nil {
		return nil, err
	}
	out := []Host{}
	for _, i := range found {
		h := c.host(i)
		if _, ok := h.libvirtd().running(); ok {
			out = append(out, h.public())
		}
	}
	return out, nil
}

// Down removes every host of the cluster, whatever state it is in: its
// domains and networks, its daemons and anything else left running in its
// namespace, the namespace, and its directories.
func (c *Cluster) Down(ctx context.Context) error {
	if err := needRoot(); err != nil {
		return err
	}
	found, err := c.found()
	if err != nil {
		return err
	}
	var errs []error
	for _, i := range found {
		if err := c.down(ctx, c.host(i)); err != nil {
			errs = append(errs, err)
		}
	}
	for _, root := range []string{c.opts.RunRoot, c.opts.StateRoot} {
		if err := os.Remove(root); err != nil && !errors.Is(err, os.ErrNotExist) {
			errs = append(errs, fmt.Errorf("dev cluster: %w", err))
		}
	}
	return errors.Join(errs...)
}

func (c *Cluster) down(ctx context.Context, h host) error {
	var errs []error
	if _, ok := h.libvirtd().running(); ok {
		// Through libvirt first, so that it undoes what it set up (iptables
		// rules, dnsmasq); what is left is killed below.
		if err := c.clear(ctx, h); err != nil {
			errs = append(errs, err)
		}
	}
	for _, d := range slices.Backward(h.daemons()) {
		if err := c.stopDaemon(ctx, h, d); err != nil {
			errs = append(errs, err)
		}
	}
	if err := c.removeNetns(ctx, h); err != nil {
		errs = append(errs, err)
	}
	for _, dir := range []string{h.run, h.state} {
		if err := os.RemoveAll(dir); err != nil {
			errs = append(errs, fmt.Errorf("dev cluster: remove %s: %w", dir, err))
		}
	}
	if len(errs) == 0 {
		c.say(h, "removed")
	}
	return errors.Join(errs...)
}
