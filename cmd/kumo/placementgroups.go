package main

import (
	"fmt"
	"net/url"
	"os"

	"github.com/spf13/cobra"

	"kumo/api/wire"
)

func newPlacementGroupsCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use: "placement-groups", Aliases: []string{"pg"},
		Short: "Placement groups: cluster (one host), spread (a host each) or partition (partitions that share no host)",
	}
	cmd.AddCommand(newPlacementGroupsListCmd(g), newPlacementGroupsCreateCmd(g), newPlacementGroupsRemoveCmd(g))
	return cmd
}

func newPlacementGroupsListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List your placement groups", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out wire.PlacementGroups
			if err := g.client().do("GET", "/api/v1/placement-groups", nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(out)
			}
			printPlacementGroups(out.PlacementGroups...)
			return nil
		},
	}
}

func newPlacementGroupsCreateCmd(g *globals) *cobra.Command {
	var req wire.CreatePlacementGroupRequest
	cmd := &cobra.Command{
		Use: "create NAME --strategy cluster|spread|partition [--partitions K]", Short: "Make a placement group",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			req.Name = args[0]
			var out wire.PlacementGroup
			if err := g.client().do("POST", "/api/v1/placement-groups", req, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(out)
			}
			printPlacementGroups(out)
			return nil
		},
	}
	cmd.Flags().StringVar(&req.Strategy, "strategy", "", "cluster, spread or partition")
	cmd.Flags().IntVar(&req.Partitions, "partitions", 0, "a partition group's number of partitions, 1 to 7 (default 2)")
	return cmd
}

func newPlacementGroupsRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "rm NAME", Aliases: []string{"delete"}, Short: "Delete a placement group that holds no live instance",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.client().do("DELETE", "/api/v1/placement-groups/"+url.PathEscape(args[0]), nil, nil)
		},
	}
}

func printPlacementGroups(list ...wire.PlacementGroup) {
	rows := make([][]string, len(list))
	for i, pg := range list {
		partitions := "-"
		if pg.Partitions > 0 {
			partitions = fmt.Sprint(pg.Partitions)
		}
		rows[i] = []string{pg.ID, pg.Name, pg.Strategy, partitions, ago(pg.CreatedAt)}
	}
	table(os.Stdout, []string{"ID", "NAME", "STRATEGY", "PARTITIONS", "CREATED"}, rows)
}
