package api

import (
	"kumo/api/ec2query"
	"kumo/instances"
)

type ec2Region struct {
	Name        string `xml:"regionName"`
	Endpoint    string `xml:"regionEndpoint"`
	OptInStatus string `xml:"optInStatus"`
}

// ec2DescribeRegions lists the one region this cloud is.
func (s *Server) ec2DescribeRegions(c *ec2Call) (any, error) {
	names, err := c.req.Strings("RegionName")
	if err != nil {
		return nil, err
	}
	if _, err := c.req.Bool("AllRegions"); err != nil {
		return nil, err
	}
	filters, err := c.req.Filters()
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	for _, n := range names {
		if n != s.region {
			return nil, ec2query.InvalidParameterValue("Invalid region: %s", n)
		}
	}
	region := ec2Region{Name: s.region, Endpoint: c.host, OptInStatus: "opt-in-not-required"}
	match, err := matchAll(filters, map[string]func() []string{
		"region-name":   value(region.Name),
		"endpoint":      value(region.Endpoint),
		"opt-in-status": value(region.OptInStatus),
	})
	if err != nil {
		return nil, err
	}
	out := struct {
		Regions ec2query.List[ec2Region] `xml:"regionInfo"`
	}{}
	if match {
		out.Regions = append(out.Regions, region)
	}
	return out, nil
}

type ec2Zone struct {
	Name     string                  `xml:"zoneName"`
	State    string                  `xml:"zoneState"`
	Region   string                  `xml:"regionName"`
	ID       string                  `xml:"zoneId"`
	Type     string                  `xml:"zoneType"`
	Messages ec2query.List[struct{}] `xml:"messageSet"`
}

// ec2DescribeAvailabilityZones lists the local host's zone.
func (s *Server) ec2DescribeAvailabilityZones(c *ec2Call) (any, error) {
	names, err := c.req.Strings("ZoneName")
	if err != nil {
		return nil, err
	}
	zoneIDs, err := c.req.Strings("ZoneId")
	if err != nil {
		return nil, err
	}
	if _, err := c.req.Bool("AllAvailabilityZones"); err != nil {
		return nil, err
	}
	filters, err := c.req.Filters()
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	zone := ec2Zone{Name: s.zone, State: "available", Region: s.region, ID: s.zone + "-id", Type: "availability-zone"}
	for _, n := range names {
		if n != zone.Name {
			return nil, ec2query.InvalidParameterValue("The zone '%s' does not exist.", n)
		}
	}
	for _, n := range zoneIDs {
		if n != zone.ID {
			return nil, ec2query.InvalidParameterValue("The zone ID '%s' does not exist.", n)
		}
	}
	match, err := matchAll(filters, map[string]func() []string{
		"zone-name":   value(zone.Name),
		"zone-id":     value(zone.ID),
		"zone-type":   value(zone.Type),
		"region-name": value(zone.Region),
		"state":       value(zone.State),
	})
	if err != nil {
		return nil, err
	}
	out := struct {
		Zones ec2query.List[ec2Zone] `xml:"availabilityZoneInfo"`
	}{}
	if match {
		out.Zones = append(out.Zones, zone)
	}
	return out, nil
}

type ec2InstanceType struct {
	Name              string `xml:"instanceType"`
	CurrentGeneration bool   `xml:"currentGeneration"`
	VCPU              struct {
		Default int `xml:"defaultVCpus"`
	} `xml:"vCpuInfo"`
	Memory struct {
		SizeMiB int `xml:"sizeInMiB"`
	} `xml:"memoryInfo"`
	Processor struct {
		Architectures ec2query.List[string] `xml:"supportedArchitectures"`
	} `xml:"processorInfo"`
	VirtualizationTypes ec2query.List[string] `xml:"supportedVirtualizationTypes"`
	Hypervisor          string                `xml:"hypervisor"`
}

// ec2DescribeInstanceTypes lists the sizes instances come in, in pages.
func (s *Server) ec2DescribeInstanceTypes(c *ec2Call) (any, error) {
	names, err := c.req.Strings("InstanceType")
	if err != nil {
		return nil, err
	}
	filters, err := c.req.Filters()
	if err != nil {
		return nil, err
	}
	page, err := readPage(c, 5, 100)
	if err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	var types []instances.Type
	for _, n := range names {
		t, ok := instances.LookupType(n)
		if !ok {
			return nil, ec2query.InvalidParameterValue("The following supplied instance types do not exist: [%s]", n)
		}
		types = append(types, t)
	}
	if len(names) == 0 {
		types = instances.Types()
	}
	var matched []ec2InstanceType
	for _, t := range types {
		v := ec2InstanceType{Name: t.Name, CurrentGeneration: true, Hypervisor: "kvm",
			VirtualizationTypes: ec2query.List[string]{"hvm"}}
		v.VCPU.Default, v.Memory.SizeMiB = t.VCPUs, t.MemoryMiB
		v.Processor.Architectures = ec2query.List[string]{"x86_64"}
		ok, err := matchAll(filters, map[string]func() []string{
			"instance-type":                         value(t.Name),
			"current-generation":                    value("true"),
			"vcpu-info.default-vcpus":               value(itoa(t.VCPUs)),
			"memory-info.size-in-mib":               value(itoa(t.MemoryMiB)),
			"processor-info.supported-architecture": value("x86_64"),
		})
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, v)
		}
	}
	items, next := paginate(page, matched, func(t ec2InstanceType) string { return t.Name })
	return struct {
		Types     ec2query.List[ec2InstanceType] `xml:"instanceTypeSet"`
		NextToken string                         `xml:"nextToken,omitempty"`
	}{items, next}, nil
}
