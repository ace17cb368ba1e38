package api

import (
	"slices"

	"kumo/api/ec2query"
	"kumo/instances"
	"kumo/internal/errs"
	"kumo/store"
)

// ec2PlacementGroup is a placement group in DescribePlacementGroups' shape.
type ec2PlacementGroup struct {
	Name       string `xml:"groupName"`
	State      string `xml:"state"`
	Strategy   string `xml:"strategy"`
	Partitions int    `xml:"partitionCount,omitempty"`
	ID         string `xml:"groupId"`
	ARN        string `xml:"groupArn"`
}

func (s *Server) ec2PlacementGroupOf(g store.PlacementGroup) ec2PlacementGroup {
	return ec2PlacementGroup{Name: g.Name, State: "available", Strategy: g.Strategy, Partitions: g.Partitions, ID: g.ID,
		ARN: "arn:aws:ec2:" + s.region + ":" + g.Owner + ":placement-group/" + g.Name}
}

func (s *Server) ec2CreatePlacementGroup(c *ec2Call) (any, error) {
	q := c.req
	req := instances.PlacementGroupRequest{}
	req.Name, _ = q.OptionalString("GroupName")
	req.Strategy, _ = q.OptionalString("Strategy")
	partitions, _, err := q.OptionalInt("PartitionCount", 1, instances.MaxPartitions)
	if err != nil {
		return nil, err
	}
	req.Partitions = partitions
	specs, err := q.TagSpecifications("TagSpecification")
	if err != nil {
		return nil, err
	}
	if len(specs) > 0 {
		return nil, ec2query.InvalidParameterValue("Placement groups cannot be tagged yet.")
	}
	if err := c.finish(func() error { return instances.CheckPlacementGroup(&req) }); err != nil {
		return nil, err
	}
	g, err := s.instances.For(c.account).CreatePlacementGroup(c.ctx, req)
	if err != nil {
		return nil, err
	}
	return struct {
		Group ec2PlacementGroup `xml:"placementGroup"`
	}{s.ec2PlacementGroupOf(g)}, nil
}

// ec2DescribePlacementGroups lists the caller's groups, by name or id and
// filtered. EC2 does not page this listing.
func (s *Server) ec2DescribePlacementGroups(c *ec2Call) (any, error) {
	q := c.req
	names, err := q.Strings("GroupName")
	if err != nil {
		return nil, err
	}
	idList, err := q.Strings("GroupId")
	if err != nil {
		return nil, err
	}
	filters, err := q.Filters()
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	list, err := s.instances.For(c.account).PlacementGroups(c.ctx)
	if err != nil {
		return nil, err
	}
	wanted := func(asked []string, v string) bool { return len(asked) == 0 || slices.Contains(asked, v) }
	out := struct {
		Groups ec2query.List[ec2PlacementGroup] `xml:"placementGroupSet"`
	}{ec2query.List[ec2PlacementGroup]{}}
	found := map[string]bool{}
	for _, g := range list {
		if !wanted(names, g.Name) || !wanted(idList, g.ID) {
			continue
		}
		found[g.Name], found[g.ID] = true, true
		v := s.ec2PlacementGroupOf(g)
		ok, err := matchAll(filters, map[string]func() []string{
			"group-name": value(v.Name),
			"group-arn":  value(v.ARN),
			"state":      value(v.State),
			"strategy":   value(v.Strategy),
		})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Groups = append(out.Groups, v)
		}
	}
	// As EC2: a group asked for by name or id must exist.
	for _, asked := range append(names, idList...) {
		if !found[asked] {
			return nil, errs.New(instances.ErrGroupNotFound, "The Placement Group '%s' is unknown.", asked)
		}
	}
	return out, nil
}

func (s *Server) ec2DeletePlacementGroup(c *ec2Call) (any, error) {
	name, err := c.req.String("GroupName")
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	if err := s.instances.For(c.account).DeletePlacementGroup(c.ctx, name); err != nil {
		return nil, err
	}
	return ec2query.ReturnTrue, nil
}
