package devcluster

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"

	"kumo/internal/netns"
)

// namespaces lists the named network namespaces, as `ip netns list` does.
func namespaces() ([]string, error) {
	entries, err := os.ReadDir(netns.Path(""))
	if err != nil && !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("dev cluster: %w", err)
	}
	names := make([]string, len(entries))
	for i, e := range entries {
		names[i] = e.Name()
	}
	return names, nil
}

func (c *Cluster) ensureNetns(ctx context.Context, h host) error {
	if _, err := os.Stat(netns.Path(h.netns)); err == nil {
		c.say(h, "namespace %s exists", h.netns)
	} else {
		if _, err := output(exec.CommandContext(ctx, "ip", "netns", "add", h.netns)); err != nil {
			return fmt.Errorf("dev cluster: create namespace of %s: %w", h.name(), err)
		}
		c.say(h, "created namespace %s", h.netns)
	}
	if _, err := output(exec.CommandContext(ctx, "ip", "-n", h.netns, "link", "set", "lo", "up")); err != nil {
		return fmt.Errorf("dev cluster: loopback of %s: %w", h.name(), err)
	}
	return nil
}

// removeNetns stops what still runs in the host's namespace (guests and
// dnsmasq, when libvirtd was not there to stop them), then deletes it,
// which takes its bridge and taps along.
func (c *Cluster) removeNetns(ctx context.Context, h host) error {
	if _, err := os.Stat(netns.Path(h.netns)); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	out, err := output(exec.CommandContext(ctx, "ip", "netns", "pids", h.netns))
	if err != nil {
		return fmt.Errorf("dev cluster: processes in namespace of %s: %w", h.name(), err)
	}
	var pids []int
	for _, f := range strings.Fields(out) {
		if pid, err := strconv.Atoi(f); err == nil {
			pids = append(pids, pid)
		}
	}
	if len(pids) > 0 {
		if err := stop(ctx, pids...); err != nil {
			return fmt.Errorf("dev cluster: stop processes in namespace of %s: %w", h.name(), err)
		}
		c.say(h, "stopped %d leftover processes %v", len(pids), pids)
	}
	if _, err := output(exec.CommandContext(ctx, "ip", "netns", "delete", h.netns)); err != nil {
		return fmt.Errorf("dev cluster: delete namespace of %s: %w", h.name(), err)
	}
	c.say(h, "deleted namespace %s", h.netns)
	return nil
}

// output runs cmd and returns its standard output; its standard error
// goes into the error, where it says what went wrong.
func output(cmd *exec.Cmd) (string, error) {
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s: %w: %s", cmd.Args[0], err, strings.TrimSpace(stderr.String()))
	}
	return string(out), nil
}
