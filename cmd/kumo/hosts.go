package main

import (
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"kumo/api/wire"
)

func newHostsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "hosts", Short: "The hosts instances run on (administrator only)"}
	cmd.AddCommand(newHostsListCmd(g), newHostsAddCmd(g),
		newHostActionCmd(g, "drain", "Take no new instances on a host; its instances stay"),
		newHostActionCmd(g, "enable", "Let a drained host take instances again"),
		newHostsRemoveCmd(g))
	return cmd
}

func newHostsListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List hosts with their capacity and usage", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out wire.Hosts
			if err := g.client().do("GET", "/api/v1/hosts", nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(out)
			}
			return printHosts(out.Hosts...)
		},
	}
}

// printHost prints one host a command acted on.
func printHost(g *globals, h wire.Host) error {
	if g.json {
		return printJSON(h)
	}
	return printHosts(h)
}

func printHosts(list ...wire.Host) error {
	rows := make([][]string, len(list))
	for i, h := range list {
		rows[i] = []string{h.ID, h.Name, h.Zone, h.State, h.Health,
			fmt.Sprintf("%d/%d", h.Used.VCPUs, h.Capacity.VCPUs),
			fmt.Sprintf("%s/%s", humanBytes(h.Used.MemoryMiB<<20), humanBytes(h.Capacity.MemoryMiB<<20)),
			fmt.Sprint(h.Instances), h.URI}
	}
	table(os.Stdout, []string{"ID", "NAME", "ZONE", "STATE", "HEALTH", "VCPUS", "MEMORY", "INSTANCES", "URI"}, rows)
	return nil
}

func newHostsAddCmd(g *globals) *cobra.Command {
	var req wire.RegisterHostRequest
	cmd := &cobra.Command{
		Use:   "add",
		Short: "Register a host by its libvirt URI (qemu:///system, qemu+ssh://root@node2/system, test:///default)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var h wire.Host
			if err := g.client().do("POST", "/api/v1/hosts", req, &h); err != nil {
				return err
			}
			return printHost(g, h)
		},
	}
	f := cmd.Flags()
	f.StringVar(&req.Name, "name", "", "the host's name")
	f.StringVar(&req.URI, "uri", "", "libvirt URI kumod reaches the host by")
	f.StringVar(&req.Zone, "zone", "", "availability zone")
	f.StringVar(&req.Netns, "netns", "", "network namespace of the host's data plane")
	f.IntVar(&req.Reserved.VCPUs, "reserved-vcpus", 0, "CPUs kept back for the host itself")
	f.Int64Var(&req.Reserved.MemoryMiB, "reserved-memory-mib", 0, "memory kept back for the host itself")
	f.Float64Var(&req.CPURatio, "cpu-ratio", 0, "CPU overcommit ratio (default 16)")
	f.Float64Var(&req.MemoryRatio, "memory-ratio", 0, "memory overcommit ratio (default 1)")
	return cmd
}

func newHostActionCmd(g *globals, action, short string) *cobra.Command {
	return &cobra.Command{
		Use: action + " HOST", Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var h wire.Host
			if err := g.client().do("POST", "/api/v1/hosts/"+url.PathEscape(args[0])+"/"+action, nil, &h); err != nil {
				return err
			}
			return printHost(g, h)
		},
	}
}

func newHostsRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "rm HOST", Aliases: []string{"remove"}, Short: "Remove a host that runs no instances", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.client().do("DELETE", "/api/v1/hosts/"+url.PathEscape(args[0]), nil, nil)
		},
	}
}
