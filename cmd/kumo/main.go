// Command kumo is the command-line client of kumo's REST API: tables for
// people, --json for scripts. It speaks HTTP only and shares no code with the
// server beyond the wire format.
package main

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"
)

func main() {
	if err := newRoot().Execute(); err != nil {
		fmt.Fprintln(os.Stderr, "kumo:", err)
		os.Exit(1)
	}
}

type globals struct {
	endpoint string
	json     bool
}

func newRoot() *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "kumo",
		Short:         "Drive a kumo cloud: images, instances that are real virtual machines, and load balancers",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	def := os.Getenv("KUMO_ENDPOINT")
	if def == "" {
		def = "http://127.0.0.1:8080"
	}
	root.PersistentFlags().StringVar(&g.endpoint, "endpoint", def, "kumod's address (env KUMO_ENDPOINT)")
	root.PersistentFlags().BoolVar(&g.json, "json", false, "print JSON instead of tables")
	root.AddCommand(
		newImagesCmd(g),
		newRunCmd(g), newListCmd(g), newDescribeCmd(g),
		newActionCmd(g, "start", "Start stopped instances", "running"),
		newStopCmd(g),
		newActionCmd(g, "reboot", "Reboot running instances", ""),
		newActionCmd(g, "terminate", "Terminate instances and delete their disks", "terminated"),
		newConsoleOutputCmd(g), newConsoleCmd(g),
		newTypesCmd(g),
		newLBCmd(g),
		newHostsCmd(g), newPlacementGroupsCmd(g), newLaunchTemplatesCmd(g),
		newDevCmd(g),
	)
	return root
}
