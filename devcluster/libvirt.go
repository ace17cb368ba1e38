package devcluster

import (
	"context"
	"fmt"
	"io"
	"os/exec"
	"slices"
	"strings"
	"time"
)

// networkXML has the shape of the main host's network (see
// scripts/setup-host.sh): no DHCP, as kumo gives each guest its address
// on the kernel command line. It routes, so that the data plane reaches
// guests through the uplink.
func (h host) networkXML() string {
	return fmt.Sprintf(`<network>
  <name>%s</name>
  <forward mode='route'/>
  <bridge name='%s' stp='off' delay='0'/>
  <ip address='%s' netmask='255.255.255.0'/>
</network>
`, h.network, h.bridge(), h.gateway())
}

func (h host) virsh(ctx context.Context, stdin io.Reader, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "virsh", append([]string{"-q", "-c", h.uri()}, args...)...)
	cmd.Stdin = stdin
	out, err := output(cmd)
	if err != nil {
		return "", fmt.Errorf("virsh %s: %w", strings.Join(args, " "), err)
	}
	return out, nil
}

// names runs a virsh listing that prints one name a line.
func (h host) names(ctx context.Context, args ...string) ([]string, error) {
	out, err := h.virsh(ctx, nil, args...)
	return strings.Fields(out), err
}

// waitAnswers waits for the host's libvirtd to serve calls. The first
// answer of a new libvirtd comes once it has probed QEMU's capabilities,
// which takes seconds under TCG.
func (c *Cluster) waitAnswers(ctx context.Context, h host) error {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	for {
		_, err := h.virsh(ctx, nil, "version")
		if err == nil {
			c.say(h, "libvirtd answers at %s", h.uri())
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("dev cluster: libvirtd of %s does not answer: %w", h.name(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

// ensureNetwork defines, autostarts and starts the host's network, each
// only if needed.
func (c *Cluster) ensureNetwork(ctx context.Context, h host) error {
	steps := []struct {
		list  []string // the listing that shows the network once the step is done
		args  []string
		stdin io.Reader
	}{
		{[]string{"net-list", "--all", "--name"}, []string{"net-define", "/dev/stdin"}, strings.NewReader(h.networkXML())},
		{[]string{"net-list", "--all", "--autostart", "--name"}, []string{"net-autostart", h.network}, nil},
		{[]string{"net-list", "--name"}, []string{"net-start", h.network}, nil},
	}
	for _, s := range steps {
		names, err := h.names(ctx, s.list...)
		if err != nil {
			return fmt.Errorf("dev cluster: network of %s: %w", h.name(), err)
		}
		if slices.Contains(names, h.network) {
			continue
		}
		if _, err := h.virsh(ctx, s.stdin, s.args...); err != nil {
			return fmt.Errorf("dev cluster: network of %s: %w", h.name(), err)
		}
		c.say(h, "%s %s", s.args[0], h.network)
	}
	c.say(h, "network %s active on %s, %s", h.network, h.bridge(), h.subnet())
	return nil
}

// clear destroys and undefines every domain and network of the host.
// Transient ones are gone once destroyed, so the undefining pass lists
// again.
func (c *Cluster) clear(ctx context.Context, h host) error {
	steps := []struct {
		list []string
		verb []string
	}{
		{[]string{"list", "--name"}, []string{"destroy"}},
		{[]string{"list", "--all", "--name"}, []string{"undefine", "--managed-save", "--snapshots-metadata", "--checkpoints-metadata", "--nvram"}},
		{[]string{"net-list", "--name"}, []string{"net-destroy"}},
		{[]string{"net-list", "--all", "--name"}, []string{"net-undefine"}},
	}
	for _, s := range steps {
		names, err := h.names(ctx, s.list...)
		if err != nil {
			return fmt.Errorf("dev cluster: clear %s: %w", h.name(), err)
		}
		for _, name := range names {
			if _, err := h.virsh(ctx, nil, append(slices.Clone(s.verb), name)...); err != nil {
				return fmt.Errorf("dev cluster: clear %s: %w", h.name(), err)
			}
			c.say(h, "%s %s", s.verb[0], name)
		}
	}
	return nil
}
