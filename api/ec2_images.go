package api

import (
	"strconv"

	"kumo/api/ec2query"
	"kumo/images"
	"kumo/instances"
	"kumo/store"
)

// systemOwner is the owner alias of the images the cloud itself provides
// (the default image, and any the administrator registers over the REST
// API): public to every account, as Amazon's own images are on EC2.
const systemOwner = "kumo"

type ec2Image struct {
	ID           string                `xml:"imageId"`
	Location     string                `xml:"imageLocation"`
	State        string                `xml:"imageState"`
	OwnerID      string                `xml:"imageOwnerId"`
	OwnerAlias   string                `xml:"imageOwnerAlias"`
	Public       bool                  `xml:"isPublic"`
	Architecture string                `xml:"architecture"`
	Type         string                `xml:"imageType"`
	Created      ec2query.Time         `xml:"creationDate"`
	Name         string                `xml:"name"`
	Description  string                `xml:"description,omitempty"`
	RootType     string                `xml:"rootDeviceType"`
	RootName     string                `xml:"rootDeviceName"`
	Virt         string                `xml:"virtualizationType"`
	Hypervisor   string                `xml:"hypervisor"`
	Tags         ec2query.List[ec2Tag] `xml:"tagSet"`
}

func ec2ImageOf(im store.Image) ec2Image {
	v := ec2Image{
		ID: im.ID, State: im.State, OwnerID: im.Owner, Architecture: "x86_64", Type: "machine",
		Created: ec2query.Time(im.CreatedAt), Name: im.Name, Description: im.Description,
		RootType: "ebs", RootName: "/dev/vda", Virt: "hvm", Hypervisor: "kvm",
	}
	if im.Owner == "" {
		v.OwnerID, v.OwnerAlias, v.Public = systemOwner, systemOwner, true
	}
	v.Location = v.OwnerID + "/" + im.Name
	return v
}

// ownedBy tells whether an image answers DescribeImages' Owner values:
// self or the caller's account id for its own, kumo (or amazon, which
// scripts written for EC2 ask for) for the cloud's.
func ownedBy(im store.Image, account string, owners []string) bool {
	for _, o := range owners {
		switch {
		case im.Owner == "" && (o == systemOwner || o == "amazon"):
			return true
		case im.Owner != "" && im.Owner == account && (o == "self" || o == account):
			return true
		}
	}
	return false
}

// ec2DescribeImages lists the images an account may launch.
func (s *Server) ec2DescribeImages(c *ec2Call) (any, error) {
	ids, err := c.req.Strings("ImageId")
	if err != nil {
		return nil, err
	}
	owners, err := c.req.Strings("Owner")
	if err != nil {
		return nil, err
	}
	if _, err := c.req.Strings("ExecutableBy"); err != nil {
		return nil, err
	}
	filters, err := c.req.Filters()
	if err != nil {
		return nil, err
	}
	if _, err := c.req.Bool("IncludeDeprecated"); err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	visible := s.images.For(c.account)
	var list []store.Image
	if len(ids) > 0 {
		for _, id := range ids {
			im, err := visible.Get(c.ctx, id)
			if err != nil {
				return nil, err
			}
			list = append(list, im)
		}
	} else if list, err = visible.List(c.ctx); err != nil {
		return nil, err
	}
	out := struct {
		Images ec2query.List[ec2Image] `xml:"imagesSet"`
	}{}
	for _, im := range list {
		v := ec2ImageOf(im)
		if len(owners) > 0 && !ownedBy(im, c.account, owners) {
			continue
		}
		ok, err := matchAll(filters, map[string]func() []string{
			"image-id":            value(v.ID),
			"name":                value(v.Name),
			"state":               value(v.State),
			"architecture":        value(v.Architecture),
			"image-type":          value(v.Type),
			"is-public":           value(strconv.FormatBool(v.Public)),
			"owner-alias":         value(v.OwnerAlias),
			"owner-id":            value(v.OwnerID),
			"root-device-type":    value(v.RootType),
			"virtualization-type": value(v.Virt),
			"description":         value(v.Description),
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Images = append(out.Images, v)
		}
	}
	return out, nil
}

// ec2RegisterImage records an image from files uploaded to the REST API
// (POST /api/v1/blobs), named by digest as EC2 names its parts by id:
// ImageLocation is the bootable disk, KernelId and RamdiskId a kernel and
// initrd to boot directly. The image is the caller's, private to it.
func (s *Server) ec2RegisterImage(c *ec2Call) (any, error) {
	q := c.req
	name, err := q.String("Name")
	if err != nil {
		return nil, err
	}
	description, _ := q.OptionalString("Description")
	disk, _ := q.OptionalString("ImageLocation")
	kernel, _ := q.OptionalString("KernelId")
	initrd, _ := q.OptionalString("RamdiskId")
	arch, _ := q.OptionalString("Architecture")
	virt, _ := q.OptionalString("VirtualizationType")
	q.OptionalString("RootDeviceName") // every image boots from /dev/vda
	err = c.finish(func() error {
		if arch != "" && arch != "x86_64" {
			return ec2query.InvalidParameterValue("Invalid value '%s' for architecture: kumo hosts run x86_64 guests.", arch)
		}
		if virt != "" && virt != "hvm" {
			return ec2query.InvalidParameterValue("Invalid value '%s' for virtualizationType: kumo guests are hvm.", virt)
		}
		if disk == "" && kernel == "" {
			return ec2query.MissingParameter("ImageLocation (a disk's digest) or KernelId (a kernel's digest)")
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	im, err := s.images.For(c.account).Register(c.ctx, images.RegisterRequest{
		Name: name, Description: description, Disk: disk, Kernel: kernel, Initrd: initrd,
	})
	if err != nil {
		return nil, err
	}
	return struct {
		ImageID string `xml:"imageId"`
	}{im.ID}, nil
}

// ec2DeregisterImage retires one of the caller's images.
func (s *Server) ec2DeregisterImage(c *ec2Call) (any, error) {
	id, err := c.req.String("ImageId")
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	if err := s.images.For(c.account).Deregister(c.ctx, id); err != nil {
		return nil, err
	}
	return ec2query.ReturnTrue, nil
}

// ec2CreateImage saves one of the caller's instances as an image it owns.
func (s *Server) ec2CreateImage(c *ec2Call) (any, error) {
	q := c.req
	id, err := q.String("InstanceId")
	if err != nil {
		return nil, err
	}
	name, err := q.String("Name")
	if err != nil {
		return nil, err
	}
	description, _ := q.OptionalString("Description")
	noReboot, err := q.Bool("NoReboot")
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	im, err := s.instances.For(c.account).CreateImage(c.ctx, id, instances.ImageRequest{Name: name, Description: description, NoReboot: noReboot})
	if err != nil {
		return nil, err
	}
	return struct {
		ImageID string `xml:"imageId"`
	}{im.ID}, nil
}
