package devcluster

import (
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// The uplink joins a host's namespace to the main host's data plane
// (namespace kumo, where kumod's load balancers and tests reach guests):
// a veth pair on 10.76.N.0/30, and a route there to the host's subnet.
// The host's network routes (rather than isolates), so libvirt lets the
// traffic between its bridge and the uplink through.

// uplinkIf is the host's end of the pair, inside its namespace.
const uplinkIf = "uplink"

func (h host) uplinkAddr() string { return fmt.Sprintf("10.76.%d.2", h.n) } // the host's end
func (h host) peerAddr() string   { return fmt.Sprintf("10.76.%d.1", h.n) } // the data plane's end

// ensureUplink makes the pair and the route, unless the host has its end
// already. A host's namespace takes both ends with it when deleted.
func (c *Cluster) ensureUplink(ctx context.Context, h host) error {
	if h.uplink == "" {
		return nil
	}
	if _, err := output(exec.CommandContext(ctx, "ip", "-n", h.netns, "link", "show", uplinkIf)); err == nil {
		c.say(h, "uplink to %s exists", h.uplink)
		return nil
	}
	steps := [][]string{
		{"ip", "-n", h.netns, "link", "add", uplinkIf, "type", "veth", "peer", "name", h.netns, "netns", h.uplink},
		{"ip", "-n", h.netns, "addr", "add", h.uplinkAddr() + "/30", "dev", uplinkIf},
		{"ip", "-n", h.netns, "link", "set", uplinkIf, "up"},
		{"ip", "-n", h.uplink, "addr", "add", h.peerAddr() + "/30", "dev", h.netns},
		{"ip", "-n", h.uplink, "link", "set", h.netns, "up"},
		{"ip", "-n", h.uplink, "route", "replace", h.subnet(), "via", h.uplinkAddr()},
	}
	for _, args := range steps {
		if _, err := output(exec.CommandContext(ctx, args[0], args[1:]...)); err != nil {
			return fmt.Errorf("dev cluster: uplink of %s: %s: %w", h.name(), strings.Join(args, " "), err)
		}
	}
	c.say(h, "uplink to %s: %s routes via %s", h.uplink, h.subnet(), h.uplinkAddr())
	return nil
}
