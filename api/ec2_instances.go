package api

import (
	"cmp"
	"fmt"
	"strconv"
	"strings"

	"kumo/api/ec2query"
	"kumo/instances"
	"kumo/launchtemplates"
	"kumo/tags"
)

type ec2State struct {
	Code int    `xml:"code"`
	Name string `xml:"name"`
}

func ec2StateOf(s instances.State) ec2State { return ec2State{Code: s.Code(), Name: string(s)} }

type ec2Tag struct {
	Key   string `xml:"key"`
	Value string `xml:"value"`
}

type ec2StateReason struct {
	Code    string `xml:"code"`
	Message string `xml:"message"`
}

// ec2Instance is an instance in EC2's shape (RunInstances,
// DescribeInstances).
type ec2Instance struct {
	ID          string                `xml:"instanceId"`
	ImageID     string                `xml:"imageId"`
	State       ec2State              `xml:"instanceState"`
	PrivateDNS  string                `xml:"privateDnsName"`
	DNS         string                `xml:"dnsName"`
	Reason      string                `xml:"reason"`
	KeyName     string                `xml:"keyName,omitempty"`
	LaunchIndex int                   `xml:"amiLaunchIndex"`
	Type        string                `xml:"instanceType"`
	LaunchTime  ec2query.Time         `xml:"launchTime"`
	Placement   ec2Placement          `xml:"placement"`
	Monitoring  ec2Monitoring         `xml:"monitoring"`
	PrivateIP   string                `xml:"privateIpAddress,omitempty"`
	Arch        string                `xml:"architecture"`
	RootType    string                `xml:"rootDeviceType"`
	RootName    string                `xml:"rootDeviceName"`
	Hypervisor  string                `xml:"hypervisor"`
	Virt        string                `xml:"virtualizationType"`
	StateReason *ec2StateReason       `xml:"stateReason,omitempty"`
	Tags        ec2query.List[ec2Tag] `xml:"tagSet,omitempty"`
	// Reservation is written by the reservation holding the instance;
	// the reservation-id filter reads it here.
	Reservation string `xml:"-"`
}

type ec2Placement struct {
	Zone      string `xml:"availabilityZone"`
	GroupName string `xml:"groupName,omitempty"`
	Partition int    `xml:"partitionNumber,omitempty"`
	Tenancy   string `xml:"tenancy"`
	GroupID   string `xml:"groupId,omitempty"`
}

type ec2Monitoring struct {
	State string `xml:"state"`
}

func (s *Server) ec2InstanceOf(in instances.Instance, tagged []tags.Tag) ec2Instance {
	v := ec2Instance{
		ID: in.ID, ImageID: in.ImageID, State: ec2StateOf(in.State), LaunchIndex: in.LaunchIndex, Type: in.Type.Name,
		LaunchTime: ec2query.Time(in.LaunchedAt), Placement: ec2Placement{Zone: s.zone, Tenancy: "default",
			GroupName: in.GroupName, GroupID: in.PlacementGroup, Partition: in.Partition},
		Monitoring: ec2Monitoring{State: "disabled"}, PrivateIP: in.PrivateIP, Arch: "x86_64",
		RootType: "ebs", RootName: "/dev/vda", Hypervisor: "kvm", Virt: "hvm", KeyName: in.KeyName,
		Reservation: in.ReservationID,
	}
	if in.PrivateIP != "" {
		v.PrivateDNS = in.ID + "." + s.region + ".compute.internal"
	}
	if in.StateReason != "" {
		code, msg, _ := strings.Cut(in.StateReason, ": ")
		v.Reason = in.StateReason
		v.StateReason = &ec2StateReason{Code: code, Message: in.StateReason}
		if msg == "" {
			v.StateReason.Message = code
		}
	}
	for _, t := range tagged {
		v.Tags = append(v.Tags, ec2Tag{Key: t.Key, Value: t.Value})
	}
	return v
}

type ec2Reservation struct {
	ID        string                     `xml:"reservationId"`
	OwnerID   string                     `xml:"ownerId"`
	Groups    ec2query.List[struct{}]    `xml:"groupSet"`
	Instances ec2query.List[ec2Instance] `xml:"instancesSet"`
}

// maxUserData is EC2's limit on user data, decoded.
const maxUserData = 16 << 10

// ec2RunInstances launches between MinCount and MaxCount instances.
func (s *Server) ec2RunInstances(c *ec2Call) (any, error) {
	q := c.req
	template, err := s.runTemplate(c)
	if err != nil {
		return nil, err
	}
	minCount, err := q.Int("MinCount", 1, 1000)
	if err != nil {
		return nil, err
	}
	maxCount, err := q.Int("MaxCount", 1, 1000)
	if err != nil {
		return nil, err
	}
	if minCount > maxCount {
		return nil, ec2query.InvalidParameterValue("MinCount (%d) may not be greater than MaxCount (%d)", minCount, maxCount)
	}
	userData, err := q.Blob("UserData")
	if err != nil {
		return nil, err
	}
	if len(userData) > maxUserData {
		return nil, ec2query.InvalidParameterValue("User data is limited to %d bytes", maxUserData)
	}
	specs, err := q.TagSpecifications("TagSpecification")
	if err != nil {
		return nil, err
	}
	launchTags, err := instanceTags(specs)
	if err != nil {
		return nil, err
	}
	if zone, ok := q.OptionalString("Placement.AvailabilityZone"); ok && zone != s.zone {
		return nil, ec2query.InvalidParameterValue("Invalid availability zone: [%s]", zone)
	}
	group, _ := q.OptionalString("Placement.GroupName")
	partition, _, err := q.OptionalInt("Placement.PartitionNumber", 1, instances.MaxPartitions)
	if err != nil {
		return nil, err
	}
	own := launchtemplates.Data{UserData: userData, Tags: launchTags}
	own.ImageID, _ = q.OptionalString("ImageId")
	own.InstanceType, _ = q.OptionalString("InstanceType")
	own.KeyName, _ = q.OptionalString("KeyName")
	launch := template.Overlay(own)
	if launch.ImageID == "" {
		return nil, ec2query.MissingParameter("ImageId")
	}
	image, typ, keyName := launch.ImageID, cmp.Or(launch.InstanceType, "t2.micro"), launch.KeyName
	userData, launchTags = launch.UserData, launch.Tags
	token, _ := q.OptionalString("ClientToken")
	err = c.finish(func() error {
		if _, ok := instances.LookupType(typ); !ok {
			return ec2query.InvalidParameterValue("Invalid value '%s' for InstanceType.", typ)
		}
		if keyName != "" {
			// Key names are per account: only the caller's own will do.
			if _, err := s.keyPairs.Get(c.ctx, c.account, keyName); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	launched, err := s.instances.For(c.account).Run(c.ctx, instances.RunRequest{
		Image: image, Type: typ, MinCount: minCount, MaxCount: maxCount, Tags: launchTags, UserData: userData,
		KeyName: keyName, ClientToken: token, PlacementGroup: group, Partition: partition,
	})
	if err != nil {
		return nil, err
	}
	r := ec2Reservation{ID: launched[0].ReservationID, OwnerID: c.account}
	for _, in := range launched {
		r.Instances = append(r.Instances, s.ec2InstanceOf(in, launchTags))
	}
	return r, nil
}

// runTemplate is the launch template version RunInstances names with
// LaunchTemplate.LaunchTemplateId or LaunchTemplateName and Version (the
// default when none), or no data when it names none.
func (s *Server) runTemplate(c *ec2Call) (launchtemplates.Data, error) {
	ref := templateRef(c.req, "LaunchTemplate.")
	version, _ := c.req.OptionalString("LaunchTemplate.Version")
	if ref == (launchtemplates.Ref{}) {
		if version != "" {
			return launchtemplates.Data{}, ec2query.MissingParameter("LaunchTemplate.LaunchTemplateId or LaunchTemplate.LaunchTemplateName")
		}
		return launchtemplates.Data{}, nil
	}
	v, err := s.launchTemplates.Resolve(c.ctx, c.account, ref, version)
	return v.Data, err
}

// instanceTags reads the tags of the instances to launch, checked here so
// that a dry run refuses what the launch would. EC2 also tags volumes and
// network interfaces at launch; kumo has neither.
func instanceTags(specs []ec2query.TagSpecification) ([]tags.Tag, error) {
	var out []tags.Tag
	for _, sp := range specs {
		if sp.ResourceType != tags.Instance {
			return nil, ec2query.InvalidParameterValue("'%s' is not a valid taggable resource type for this operation.", sp.ResourceType)
		}
		for _, t := range sp.Tags {
			out = append(out, tags.Tag{Key: t.Key, Value: t.Value})
		}
	}
	return out, tags.Check(out)
}

// ec2DescribeInstances lists instances as reservations, filtered and in pages.
func (s *Server) ec2DescribeInstances(c *ec2Call) (any, error) {
	ids, err := c.req.Strings("InstanceId")
	if err != nil {
		return nil, err
	}
	filters, err := c.req.Filters()
	if err != nil {
		return nil, err
	}
	page, err := readPage(c, 5, 1000)
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	if len(ids) > 0 && page.max > 0 {
		return nil, ec2query.InvalidParameterCombination("The parameter instancesSet cannot be used with the parameter maxResults")
	}
	list, err := s.instances.For(c.account).List(c.ctx, ids)
	if err != nil {
		return nil, err
	}
	// Tag filters need the tags before the page is cut: read them for
	// every instance listed, in one query.
	var tagsOf map[string][]tags.Tag
	if len(ids) > 0 {
		tagsOf, err = s.tags.Of(c.ctx, c.account, ids)
	} else {
		tagsOf, err = s.tags.OfType(c.ctx, c.account, tags.Instance)
	}
	if err != nil {
		return nil, err
	}
	var matched []ec2Instance
	for _, in := range list {
		v := s.ec2InstanceOf(in, tagsOf[in.ID])
		ok := true
		if len(filters) > 0 {
			if ok, err = matchAll(filters, instanceFields(v)); err != nil {
				return nil, err
			}
		}
		if ok {
			matched = append(matched, v)
		}
	}
	// MaxResults counts instances, as EC2's does: pages are cut in a list
	// of instances ordered by reservation, then each page is grouped.
	page1, next := paginate(page, matched, func(v ec2Instance) string {
		return fmt.Sprintf("%s/%04d/%s", v.Reservation, v.LaunchIndex, v.ID)
	})
	var items ec2query.List[ec2Reservation]
	for _, v := range page1 {
		if len(items) == 0 || items[len(items)-1].ID != v.Reservation {
			items = append(items, ec2Reservation{ID: v.Reservation, OwnerID: c.account})
		}
		items[len(items)-1].Instances = append(items[len(items)-1].Instances, v)
	}
	return describeInstancesResult{items, next}, nil
}

// instanceFields are the DescribeInstances filters.
func instanceFields(v ec2Instance) map[string]func() []string {
	tags := func(f func(ec2Tag) string) func() []string {
		return func() []string {
			var out []string
			for _, t := range v.Tags {
				out = append(out, f(t))
			}
			return out
		}
	}
	return map[string]func() []string{
		"instance-id":          value(v.ID),
		"image-id":             value(v.ImageID),
		"instance-type":        value(v.Type),
		"instance-state-name":  value(v.State.Name),
		"instance-state-code":  value(strconv.Itoa(v.State.Code)),
		"private-ip-address":   value(v.PrivateIP),
		"private-dns-name":     value(v.PrivateDNS),
		"availability-zone":    value(v.Placement.Zone),
		"placement-group-name": value(v.Placement.GroupName),
		"placement-partition-number": func() []string {
			if v.Placement.Partition == 0 {
				return nil
			}
			return []string{strconv.Itoa(v.Placement.Partition)}
		},
		"reservation-id": value(v.Reservation),
		"architecture":   value(v.Arch),
		"key-name":       value(v.KeyName),
		"tag-key":        tags(func(t ec2Tag) string { return t.Key }),
		"tag-value":      tags(func(t ec2Tag) string { return t.Value }),
		// tag:KEY: the filter name carries the key; matchAll passes every
		// tag:… filter here with its values, so give KEY=VALUE pairs.
		"tag:": tags(func(t ec2Tag) string { return t.Key + "=" + t.Value }),
	}
}

type ec2StateChange struct {
	ID       string   `xml:"instanceId"`
	Current  ec2State `xml:"currentState"`
	Previous ec2State `xml:"previousState"`
}

func (s *Server) ec2StartInstances(c *ec2Call) (any, error) {
	return s.stateChange(c, false, func(ids []string, _ bool) ([]instances.StateChange, error) {
		return s.instances.For(c.account).Start(c.ctx, ids)
	})
}

func (s *Server) ec2StopInstances(c *ec2Call) (any, error) {
	return s.stateChange(c, true, func(ids []string, force bool) ([]instances.StateChange, error) {
		return s.instances.For(c.account).Stop(c.ctx, ids, force)
	})
}

func (s *Server) ec2TerminateInstances(c *ec2Call) (any, error) {
	return s.stateChange(c, false, func(ids []string, _ bool) ([]instances.StateChange, error) {
		return s.instances.For(c.account).Terminate(c.ctx, ids)
	})
}

// ec2RebootInstances has no output but its return.
func (s *Server) ec2RebootInstances(c *ec2Call) (any, error) {
	_, err := s.stateChange(c, false, func(ids []string, _ bool) ([]instances.StateChange, error) {
		return s.instances.For(c.account).Reboot(c.ctx, ids)
	})
	if err != nil {
		return nil, err
	}
	return ec2query.ReturnTrue, nil
}

// stateChange serves the lifecycle actions, which read alike; only
// StopInstances takes Force.
func (s *Server) stateChange(c *ec2Call, takesForce bool, act func(ids []string, force bool) ([]instances.StateChange, error)) (any, error) {
	ids, err := c.req.Strings("InstanceId")
	if err != nil {
		return nil, err
	}
	if len(ids) == 0 {
		return nil, ec2query.MissingParameter("InstanceId")
	}
	force := false
	if takesForce {
		if force, err = c.req.Bool("Force"); err != nil {
			return nil, err
		}
	}
	err = c.finish(func() error {
		_, err := s.instances.For(c.account).List(c.ctx, ids)
		return err
	})
	if err != nil {
		return nil, err
	}
	changes, err := act(ids, force)
	if err != nil {
		return nil, err
	}
	out := struct {
		Instances ec2query.List[ec2StateChange] `xml:"instancesSet"`
	}{}
	for _, ch := range changes {
		out.Instances = append(out.Instances, ec2StateChange{ID: ch.ID, Current: ec2StateOf(ch.Current), Previous: ec2StateOf(ch.Previous)})
	}
	return out, nil
}
