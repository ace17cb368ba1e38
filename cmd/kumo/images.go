package main

import (
	"fmt"
	"io"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"kumo/api/wire"
)

func imageRows(list []wire.Image) [][]string {
	rows := make([][]string, len(list))
	for i, im := range list {
		boot := "disk"
		if im.Kernel != "" {
			boot = "kernel"
		}
		rows[i] = []string{im.ID, im.Name, im.State, boot, humanBytes(im.SizeBytes), ago(im.CreatedAt)}
	}
	return rows
}

var imageHeader = []string{"ID", "NAME", "STATE", "BOOT", "SIZE", "CREATED"}

func newImagesCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "images", Short: "Manage machine images"}
	cmd.AddCommand(
		&cobra.Command{
			Use: "ls", Aliases: []string{"list"}, Short: "List images", Args: cobra.NoArgs,
			RunE: func(cmd *cobra.Command, args []string) error {
				var out wire.Images
				if err := g.client().do("GET", "/api/v1/images", nil, &out); err != nil {
					return err
				}
				return printImages(g, out.Images)
			},
		},
		&cobra.Command{
			Use: "describe IMAGE_ID", Short: "Show an image", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				var im wire.Image
				if err := g.client().do("GET", "/api/v1/images/"+url.PathEscape(args[0]), nil, &im); err != nil {
					return err
				}
				if g.json {
					return printJSON(im)
				}
				table(os.Stdout, []string{"ATTRIBUTE", "VALUE"}, [][]string{
					{"id", im.ID}, {"name", im.Name}, {"description", im.Description}, {"state", im.State},
					{"kernel", im.Kernel}, {"initrd", im.Initrd}, {"disk", strings.TrimSpace(im.Disk + " " + im.DiskFormat)},
					{"cmdline", im.Cmdline}, {"size", humanBytes(im.SizeBytes)}, {"source instance", im.SourceInstance},
					{"created", im.CreatedAt.Local().Format(time.RFC3339)},
				})
				return nil
			},
		},
		&cobra.Command{
			Use: "deregister IMAGE_ID", Aliases: []string{"rm"}, Short: "Deregister an image", Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				if err := g.client().do("DELETE", "/api/v1/images/"+url.PathEscape(args[0]), nil, nil); err != nil {
					return err
				}
				fmt.Println(args[0], "deregistered")
				return nil
			},
		},
		newRegisterCmd(g),
		newCreateImageCmd(g),
	)
	return cmd
}

func printImages(g *globals, list []wire.Image) error {
	if g.json {
		return printJSON(wire.Images{Images: list})
	}
	table(os.Stdout, imageHeader, imageRows(list))
	return nil
}

func newRegisterCmd(g *globals) *cobra.Command {
	var req wire.RegisterImageRequest
	cmd := &cobra.Command{
		Use:   "register --name NAME (--disk FILE | --kernel FILE [--initrd FILE] [--disk FILE])",
		Short: "Upload files and register them as an image",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			c := g.client()
			for _, f := range []*string{&req.Kernel, &req.Initrd, &req.Disk} {
				if *f == "" {
					continue
				}
				digest, err := upload(c, *f)
				if err != nil {
					return err
				}
				*f = digest
			}
			if req.Disk != "" && req.DiskFormat == "" {
				req.DiskFormat = "qcow2"
			}
			var im wire.Image
			if err := c.do("POST", "/api/v1/images", req, &im); err != nil {
				return err
			}
			return printImages(g, []wire.Image{im})
		},
	}
	cmd.Flags().StringVar(&req.Name, "name", "", "image name")
	cmd.Flags().StringVar(&req.Description, "description", "", "description")
	cmd.Flags().StringVar(&req.Kernel, "kernel", "", "Linux kernel (bzImage) to boot directly")
	cmd.Flags().StringVar(&req.Initrd, "initrd", "", "initial ramdisk for the kernel")
	cmd.Flags().StringVar(&req.Disk, "disk", "", "disk image (bootable on its own when no kernel is given)")
	cmd.Flags().StringVar(&req.DiskFormat, "disk-format", "", "qcow2 (default) or raw")
	cmd.Flags().StringVar(&req.Cmdline, "cmdline", "", "kernel command line")
	return cmd
}

// upload sends a file to the server's blob store, showing progress.
func upload(c *client, path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	pr := &progressReader{r: f, total: fi.Size(), name: filepath.Base(path)}
	var out wire.Blob
	err = c.upload("/api/v1/blobs", pr, &out)
	fmt.Fprintln(os.Stderr)
	if err != nil {
		return "", fmt.Errorf("upload %s: %w", path, err)
	}
	return out.Digest, nil
}

type progressReader struct {
	r           io.Reader
	total, done int64
	name        string
	lastPct     int64
}

func (p *progressReader) Read(b []byte) (int, error) {
	n, err := p.r.Read(b)
	p.done += int64(n)
	if p.total > 0 {
		if pct := p.done * 100 / p.total; pct != p.lastPct || p.done == int64(n) {
			p.lastPct = pct
			fmt.Fprintf(os.Stderr, "\ruploading %s: %3d%% of %s", p.name, pct, humanBytes(p.total))
		}
	}
	return n, err
}

func newCreateImageCmd(g *globals) *cobra.Command {
	var name, description string
	cmd := &cobra.Command{
		Use:   "create INSTANCE_ID --name NAME",
		Short: "Save a stopped instance's disk as a new image",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			var im wire.Image
			body := wire.CreateImageRequest{Name: name, Description: description}
			if err := g.client().do("POST", "/api/v1/instances/"+url.PathEscape(args[0])+"/image", body, &im); err != nil {
				return err
			}
			return printImages(g, []wire.Image{im})
		},
	}
	cmd.Flags().StringVar(&name, "name", "", "name of the new image")
	cmd.Flags().StringVar(&description, "description", "", "description")
	return cmd
}
