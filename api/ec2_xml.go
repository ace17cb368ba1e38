package api

import (
	"bytes"
	"encoding/xml"
	"strconv"

	"kumo/api/ec2query"
)

// DescribeInstances answers up to a thousand instances at once, and
// encoding/xml's reflection and token checks over each of their fields took
// longer than everything else in the request together. Instances and
// reservations are therefore written as bytes by hand, escaped as
// encoding/xml escapes; TestInstanceXMLFollowsItsTags holds the two to the
// same output.

// xmlText appends <name>s</name>.
func xmlText(b *bytes.Buffer, name, s string) {
	b.WriteByte('<')
	b.WriteString(name)
	b.WriteByte('>')
	xml.EscapeText(b, []byte(s))
	b.WriteString("</")
	b.WriteString(name)
	b.WriteByte('>')
}

func (v ec2Instance) appendXML(b *bytes.Buffer) {
	xmlText(b, "instanceId", v.ID)
	xmlText(b, "imageId", v.ImageID)
	b.WriteString("<instanceState>")
	xmlText(b, "code", strconv.Itoa(v.State.Code))
	xmlText(b, "name", v.State.Name)
	b.WriteString("</instanceState>")
	xmlText(b, "privateDnsName", v.PrivateDNS)
	xmlText(b, "dnsName", v.DNS)
	xmlText(b, "reason", v.Reason)
	if v.KeyName != "" {
		xmlText(b, "keyName", v.KeyName)
	}
	xmlText(b, "amiLaunchIndex", strconv.Itoa(v.LaunchIndex))
	xmlText(b, "instanceType", v.Type)
	if t := v.LaunchTime.String(); t != "" {
		xmlText(b, "launchTime", t)
	}
	b.WriteString("<placement>")
	xmlText(b, "availabilityZone", v.Placement.Zone)
	if v.Placement.GroupName != "" {
		xmlText(b, "groupName", v.Placement.GroupName)
	}
	if v.Placement.Partition != 0 {
		xmlText(b, "partitionNumber", strconv.Itoa(v.Placement.Partition))
	}
	xmlText(b, "tenancy", v.Placement.Tenancy)
	if v.Placement.GroupID != "" {
		xmlText(b, "groupId", v.Placement.GroupID)
	}
	b.WriteString("</placement><monitoring>")
	xmlText(b, "state", v.Monitoring.State)
	b.WriteString("</monitoring>")
	if v.PrivateIP != "" {
		xmlText(b, "privateIpAddress", v.PrivateIP)
	}
	xmlText(b, "architecture", v.Arch)
	xmlText(b, "rootDeviceType", v.RootType)
	xmlText(b, "rootDeviceName", v.RootName)
	xmlText(b, "hypervisor", v.Hypervisor)
	xmlText(b, "virtualizationType", v.Virt)
	if v.StateReason != nil {
		b.WriteString("<stateReason>")
		xmlText(b, "code", v.StateReason.Code)
		xmlText(b, "message", v.StateReason.Message)
		b.WriteString("</stateReason>")
	}
	if len(v.Tags) > 0 {
		b.WriteString("<tagSet>")
		for _, t := range v.Tags {
			b.WriteString("<item>")
			xmlText(b, "key", t.Key)
			xmlText(b, "value", t.Value)
			b.WriteString("</item>")
		}
		b.WriteString("</tagSet>")
	}
}

// rawXML hands encoding/xml members it writes as they are.
type rawXML struct {
	Inner []byte `xml:",innerxml"`
}

func (v ec2Instance) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	var b bytes.Buffer
	v.appendXML(&b)
	return e.EncodeElement(rawXML{b.Bytes()}, start)
}

func (r ec2Reservation) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	var b bytes.Buffer
	b.Grow(1024 * len(r.Instances))
	r.appendXML(&b)
	return e.EncodeElement(rawXML{b.Bytes()}, start)
}

func (r ec2Reservation) appendXML(b *bytes.Buffer) {
	xmlText(b, "reservationId", r.ID)
	xmlText(b, "ownerId", r.OwnerID)
	b.WriteString("<groupSet></groupSet><instancesSet>")
	for _, in := range r.Instances {
		b.WriteString("<item>")
		in.appendXML(b)
		b.WriteString("</item>")
	}
	b.WriteString("</instancesSet>")
}

// describeInstancesResult is DescribeInstances' answer, written straight
// into the response's buffer.
type describeInstancesResult struct {
	Reservations ec2query.List[ec2Reservation] `xml:"reservationSet"`
	NextToken    string                        `xml:"nextToken,omitempty"`
}

func (d describeInstancesResult) AppendXML(b *bytes.Buffer) {
	b.WriteString("<reservationSet>")
	for _, r := range d.Reservations {
		b.WriteString("<item>")
		r.appendXML(b)
		b.WriteString("</item>")
	}
	b.WriteString("</reservationSet>")
	if d.NextToken != "" {
		xmlText(b, "nextToken", d.NextToken)
	}
}
