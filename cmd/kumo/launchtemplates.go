package main

import (
	"encoding/base64"
	"fmt"
	"net/url"
	"os"
	"strings"

	"github.com/spf13/cobra"

	"kumo/api/wire"
)

func newLaunchTemplatesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{
		Use: "launch-templates", Aliases: []string{"lt"},
		Short: "Launch templates: named, versioned launch parameters (kumo run --launch-template NAME[:VERSION])",
	}
	cmd.AddCommand(newLaunchTemplatesListCmd(g), newLaunchTemplateCreateCmd(g, false), newLaunchTemplateCreateCmd(g, true),
		newLaunchTemplateVersionsCmd(g), newLaunchTemplateDefaultCmd(g), newLaunchTemplateRemoveCmd(g))
	return cmd
}

func newLaunchTemplatesListCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "ls", Aliases: []string{"list"}, Short: "List your launch templates", Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var out wire.LaunchTemplates
			if err := g.client().do("GET", "/api/v1/launch-templates", nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(out)
			}
			rows := make([][]string, len(out.LaunchTemplates))
			for i, t := range out.LaunchTemplates {
				rows[i] = []string{t.ID, t.Name, fmt.Sprint(t.DefaultVersion), fmt.Sprint(t.LatestVersion), ago(t.CreatedAt)}
			}
			table(os.Stdout, []string{"ID", "NAME", "DEFAULT", "LATEST", "CREATED"}, rows)
			return nil
		},
	}
}

// newLaunchTemplateCreateCmd makes a template, or with version a new
// version of one.
func newLaunchTemplateCreateCmd(g *globals, version bool) *cobra.Command {
	var data wire.LaunchTemplateData
	var description, source, userDataFile string
	var tagList []string
	use, short := "create NAME", "Make a launch template; its first version holds the flags given"
	if version {
		use, short = "add-version NAME|ID", "Add a version to a launch template: the flags given, over --source's version if named"
	}
	cmd := &cobra.Command{
		Use: use, Short: short, Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if userDataFile != "" {
				b, err := os.ReadFile(userDataFile)
				if err != nil {
					return err
				}
				data.UserData = base64.StdEncoding.EncodeToString(b)
			}
			for _, kv := range tagList {
				k, v, _ := strings.Cut(kv, "=")
				data.Tags = append(data.Tags, wire.Tag{Key: k, Value: v})
			}
			var body any = wire.CreateLaunchTemplateRequest{Name: args[0], Description: description, Data: data}
			path := "/api/v1/launch-templates"
			if version {
				body = wire.CreateLaunchTemplateVersionRequest{SourceVersion: source, Description: description, Data: data}
				path += "/" + url.PathEscape(args[0]) + "/versions"
			}
			var out wire.LaunchTemplateVersion
			if err := g.client().do("POST", path, body, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(out)
			}
			printLaunchTemplateVersions(out)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&data.ImageID, "image", "", "image id or name")
	f.StringVar(&data.InstanceType, "type", "", "instance type")
	f.StringVar(&data.KeyName, "key-name", "", "key pair the guests are given")
	f.StringVar(&userDataFile, "user-data", "", "file the guests run at boot if it starts with #!")
	f.StringArrayVar(&tagList, "tag", nil, "KEY=VALUE tag of the instances (repeatable)")
	f.StringVar(&description, "description", "", "what the version is for")
	if version {
		f.StringVar(&source, "source", "", "version to start from ($Latest, $Default or a number)")
	}
	return cmd
}

func newLaunchTemplateVersionsCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "versions NAME|ID", Short: "List a launch template's versions", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out wire.LaunchTemplateVersions
			if err := g.client().do("GET", "/api/v1/launch-templates/"+url.PathEscape(args[0])+"/versions", nil, &out); err != nil {
				return err
			}
			if g.json {
				return printJSON(out)
			}
			printLaunchTemplateVersions(out.Versions...)
			return nil
		},
	}
}

func newLaunchTemplateDefaultCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "set-default NAME|ID VERSION", Short: "Make a version the one launches use when they name none", Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			var out wire.LaunchTemplate
			return g.client().do("POST", "/api/v1/launch-templates/"+url.PathEscape(args[0])+"/default",
				wire.SetDefaultVersionRequest{Version: args[1]}, &out)
		},
	}
}

func newLaunchTemplateRemoveCmd(g *globals) *cobra.Command {
	return &cobra.Command{
		Use: "rm NAME|ID", Aliases: []string{"delete"}, Short: "Delete a launch template and all its versions", Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return g.client().do("DELETE", "/api/v1/launch-templates/"+url.PathEscape(args[0]), nil, nil)
		},
	}
}

func printLaunchTemplateVersions(list ...wire.LaunchTemplateVersion) {
	rows := make([][]string, len(list))
	for i, v := range list {
		def := ""
		if v.Default {
			def = "default"
		}
		rows[i] = []string{v.TemplateName, fmt.Sprint(v.Version), def, v.Data.ImageID, v.Data.InstanceType, v.Data.KeyName, v.Description}
	}
	table(os.Stdout, []string{"TEMPLATE", "VERSION", "", "IMAGE", "TYPE", "KEY", "DESCRIPTION"}, rows)
}
