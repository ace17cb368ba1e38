package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"kumo/api/wire"
)

func instanceRows(list []wire.Instance) [][]string {
	rows := make([][]string, len(list))
	for i, in := range list {
		rows[i] = []string{in.ID, in.Name, in.Type, in.State.Name, in.PrivateIP, in.Host, in.ImageID, ago(in.LaunchedAt)}
	}
	return rows
}

var instanceHeader = []string{"ID", "NAME", "TYPE", "STATE", "PRIVATE IP", "HOST", "IMAGE", "LAUNCHED"}

func newRunCmd(g *globals) *cobra.Command {
	var image, typ, name, userDataFile, group, template string
	var count, partition int
	var wait bool
	cmd := &cobra.Command{
		Use:   "run --image IMAGE [--type TYPE] [--count N] [--name NAME] [--user-data FILE] [--placement-group NAME [--partition N]]",
		Short: "Launch instances of an image",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			body := wire.RunRequest{Image: image, Type: typ, Count: &count, Name: name, PlacementGroup: group, Partition: partition}
			if template != "" {
				// The template's image and type stand unless given here.
				body.LaunchTemplate, body.LaunchTemplateVersion, _ = strings.Cut(template, ":")
				if !cmd.Flags().Changed("image") {
					body.Image = ""
				}
				if !cmd.Flags().Changed("type") {
					body.Type = ""
				}
			}
			if userDataFile != "" {
				data, err := os.ReadFile(userDataFile)
				if err != nil {
					return err
				}
				body.UserData = base64.StdEncoding.EncodeToString(data)
			}
			var out wire.Instances
			c := g.client()
			if err := c.do("POST", "/api/v1/instances", body, &out); err != nil {
				return err
			}
			if wait {
				ids := make([]string, len(out.Instances))
				for i, in := range out.Instances {
					ids[i] = in.ID
				}
				list, err := waitFor(c, ids, "running")
				if err != nil {
					return err
				}
				out.Instances = list
			}
			if g.json {
				return printJSON(out)
			}
			table(os.Stdout, instanceHeader, instanceRows(out.Instances))
			return nil
		},
	}
	cmd.Flags().StringVar(&image, "image", "kumo-tiny", "image id or name")
	cmd.Flags().StringVar(&typ, "type", "t2.micro", "instance type")
	cmd.Flags().IntVar(&count, "count", 1, "how many instances")
	cmd.Flags().StringVar(&name, "name", "", "a name for the instances")
	cmd.Flags().StringVar(&userDataFile, "user-data", "", "file whose content the guest runs at boot if it starts with #!")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the instances run")
	cmd.Flags().StringVar(&group, "placement-group", "", "launch into this placement group")
	cmd.Flags().StringVar(&template, "launch-template", "", "launch from this template, NAME or NAME:VERSION (a number, $Latest; default $Default)")
	cmd.Flags().IntVar(&partition, "partition", 0, "a partition group's partition to launch into (default: any)")
	return cmd
}

func listInstances(c *client, ids []string) ([]wire.Instance, error) {
	path := "/api/v1/instances"
	if len(ids) > 0 {
		path += "?ids=" + url.QueryEscape(strings.Join(ids, ","))
	}
	var out wire.Instances
	err := c.do("GET", path, nil, &out)
	return out.Instances, err
}

func newListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:     "ls",
		Aliases: []string{"list"},
		Short:   "List instances",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			list, err := listInstances(g.client(), nil)
			if err != nil {
				return err
			}
			if g.json {
				return printJSON(wire.Instances{Instances: list})
			}
			table(os.Stdout, instanceHeader, instanceRows(list))
			return nil
		},
	}
}

func newDescribeCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "describe INSTANCE_ID",
		Short: "Show every attribute of an instance",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var in wire.Instance
			if err := g.client().do("GET", "/api/v1/instances/"+url.PathEscape(args[0]), nil, &in); err != nil {
				return err
			}
			if g.json {
				return printJSON(in)
			}
			userData, _ := base64.StdEncoding.DecodeString(in.UserData)
			rows := [][]string{
				{"id", in.ID}, {"name", in.Name}, {"state", fmt.Sprintf("%s (%d)", in.State.Name, in.State.Code)},
				{"state reason", in.StateReason}, {"type", fmt.Sprintf("%s (%d vCPU, %d MiB)", in.Type, in.VCPUs, in.MemoryMiB)},
				{"image", in.ImageID}, {"private ip", in.PrivateIP}, {"mac", in.MAC}, {"host", in.Host},
				{"launched", in.LaunchedAt.Local().Format(time.RFC3339)}, {"user data", fmt.Sprintf("%d bytes", len(userData))},
			}
			if in.TerminatedAt != nil {
				rows = append(rows, []string{"terminated", in.TerminatedAt.Local().Format(time.RFC3339)})
			}
			table(os.Stdout, []string{"ATTRIBUTE", "VALUE"}, rows)
			return nil
		},
	}
}

// act posts an action for each instance and prints the state changes.
func act(g *globals, action string, ids []string, body any, waitState string) error {
	c := g.client()
	var changes []wire.StateChange
	for _, id := range ids {
		var ch wire.StateChange
		if err := c.do("POST", "/api/v1/instances/"+url.PathEscape(id)+"/"+action, body, &ch); err != nil {
			return fmt.Errorf("%s %s: %w", action, id, err)
		}
		changes = append(changes, ch)
	}
	if waitState != "" {
		if _, err := waitFor(c, ids, waitState); err != nil {
			return err
		}
	}
	if g.json {
		return printJSON(map[string]any{"changes": changes})
	}
	rows := make([][]string, len(changes))
	for i, ch := range changes {
		rows[i] = []string{ch.ID, ch.Previous.Name, ch.Current.Name}
	}
	table(os.Stdout, []string{"ID", "PREVIOUS", "CURRENT"}, rows)
	return nil
}

func newActionCmd(g *globals, action, short, target string) *cobra.Command {
	var wait bool
	cmd := &cobra.Command{
		Use:   action + " INSTANCE_ID...",
		Short: short,
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			waitState := ""
			if wait {
				waitState = target
			}
			return act(g, action, args, nil, waitState)
		},
	}
	if target != "" {
		cmd.Flags().BoolVar(&wait, "wait", false, "wait until the instances are "+target)
	}
	return cmd
}

func newStopCmd(g *globals) *cobra.Command {
	var force, wait bool
	cmd := &cobra.Command{
		Use:   "stop INSTANCE_ID...",
		Short: "Stop instances (ACPI shutdown, forced off after a timeout)",
		Args:  cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			waitState := ""
			if wait {
				waitState = "stopped"
			}
			return act(g, "stop", args, wire.StopRequest{Force: force}, waitState)
		},
	}
	cmd.Flags().BoolVar(&force, "force", false, "power off at once, without asking the guest")
	cmd.Flags().BoolVar(&wait, "wait", false, "wait until the instances are stopped")
	return cmd
}

// waitFor polls until every instance is in state, printing each change.
func waitFor(c *client, ids []string, want string) ([]wire.Instance, error) {
	last := map[string]string{}
	deadline := time.Now().Add(10 * time.Minute)
	for {
		list, err := listInstances(c, ids)
		if err != nil {
			return nil, err
		}
		done := true
		for _, in := range list {
			if last[in.ID] != in.State.Name {
				fmt.Fprintf(os.Stderr, "%s  %s\n", in.ID, in.State.Name)
				last[in.ID] = in.State.Name
			}
			if in.State.Name != want {
				done = false
				if in.State.Name == "terminated" {
					return list, fmt.Errorf("instance %s terminated: %s", in.ID, in.StateReason)
				}
			}
		}
		if done {
			return list, nil
		}
		if time.Now().After(deadline) {
			return list, fmt.Errorf("gave up waiting for %s", want)
		}
		time.Sleep(500 * time.Millisecond)
	}
}

func newConsoleOutputCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "console-output INSTANCE_ID",
		Short: "Print what the instance wrote on its serial console",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out rawBody
			if err := g.client().do("GET", "/api/v1/instances/"+url.PathEscape(args[0])+"/console", nil, &out); err != nil {
				return err
			}
			_, err := os.Stdout.Write(out)
			return err
		},
	}
}

func newTypesCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use:   "types",
		Short: "List instance types",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out wire.InstanceTypes
			if err := g.client().do("GET", "/api/v1/instance-types", nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(out)
			}
			rows := make([][]string, len(out.InstanceTypes))
			for i, t := range out.InstanceTypes {
				rows[i] = []string{t.Name, fmt.Sprint(t.VCPUs), fmt.Sprintf("%d MiB", t.MemoryMiB)}
			}
			table(os.Stdout, []string{"TYPE", "VCPUS", "MEMORY"}, rows)
			return nil
		},
	}
}
