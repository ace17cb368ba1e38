package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"kumo/devcluster"
)

// newDevCmd gathers the tools for working on kumo itself. They act on this
// machine, as root, and never talk to kumod.
func newDevCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "dev", Short: "Tools for developing kumo on this machine (local, as root; kumod is not involved)"}
	cluster := &cobra.Command{
		Use:   "cluster",
		Short: "Simulated hosts on this machine, each a libvirtd in namespaces of its own, to register with kumod",
	}
	cluster.AddCommand(newDevClusterUpCmd(g), newDevClusterDownCmd(), newDevClusterListCmd(g))
	cmd.AddCommand(cluster)
	return cmd
}

func newDevClusterUpCmd(g *globals) *cobra.Command {
	var n int
	var network string
	cmd := &cobra.Command{
		Use:   "up",
		Short: "Start simulated hosts h1..hN, or repair them; hosts already up are left as they are",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := devcluster.New(devcluster.Options{Network: network}, os.Stderr).Up(cmd.Context(), n)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(list)
			}
			printDevHosts(list)
			fmt.Println("\nRegister them with kumod:")
			for _, h := range list {
				fmt.Printf("  kumo hosts add --name %s --uri '%s' --zone local-a --netns %s\n", h.Name, h.URI, h.Netns)
			}
			return nil
		},
	}
	cmd.Flags().IntVar(&n, "hosts", 2, "how many hosts")
	cmd.Flags().StringVar(&network, "network", "kumo", "the libvirt network of every host: kumod's --network")
	return cmd
}

func newDevClusterDownCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "down",
		Short: "Remove every simulated host: its guests, networks, daemons, namespaces and files",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return devcluster.New(devcluster.Options{}, os.Stderr).Down(cmd.Context())
		},
	}
}

func newDevClusterListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List the simulated hosts that are up", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := devcluster.New(devcluster.Options{}, nil).List()
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(list)
			}
			printDevHosts(list)
			return nil
		},
	}
}

func printDevHosts(list []devcluster.Host) {
	rows := make([][]string, len(list))
	for i, h := range list {
		rows[i] = []string{h.Name, h.URI, h.Netns, h.Bridge, h.Subnet}
	}
	table(os.Stdout, []string{"NAME", "URI", "NETNS", "BRIDGE", "SUBNET"}, rows)
}
