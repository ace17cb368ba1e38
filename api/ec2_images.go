package api

import (
	"slices"

	"kumo/api/ec2query"
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
	return ec2Image{
		ID: im.ID, Location: systemOwner + "/" + im.Name, State: im.State, OwnerID: systemOwner, OwnerAlias: systemOwner,
		Public: true, Architecture: "x86_64", Type: "machine", Created: ec2query.Time(im.CreatedAt), Name: im.Name,
		Description: im.Description, RootType: "ebs", RootName: "/dev/vda", Virt: "hvm", Hypervisor: "kvm",
	}
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
	var list []store.Image
	if len(ids) > 0 {
		for _, id := range ids {
			im, err := s.images.Get(c.ctx, id)
			if err != nil {
				return nil, err
			}
			list = append(list, im)
		}
	} else if list, err = s.images.List(c.ctx); err != nil {
		return nil, err
	}
	out := struct {
		Images ec2query.List[ec2Image] `xml:"imagesSet"`
	}{}
	for _, im := range list {
		v := ec2ImageOf(im)
		// Every image is the cloud's own so far: Owner=self (or the
		// caller's account) finds none, amazon or kumo finds them all.
		if len(owners) > 0 && !slices.Contains(owners, systemOwner) && !slices.Contains(owners, "amazon") {
			continue
		}
		ok, err := matchAll(filters, map[string]func() []string{
			"image-id":            value(v.ID),
			"name":                value(v.Name),
			"state":               value(v.State),
			"architecture":        value(v.Architecture),
			"image-type":          value(v.Type),
			"is-public":           value("true"),
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
