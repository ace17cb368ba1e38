package api

import (
	"encoding/base64"
	"math"

	"kumo/api/ec2query"
	"kumo/launchtemplates"
	"kumo/tags"
)

// ec2LaunchTemplate is a launch template in EC2's shape.
type ec2LaunchTemplate struct {
	CreateTime           ec2query.Time `xml:"createTime"`
	CreatedBy            string        `xml:"createdBy"`
	DefaultVersionNumber int           `xml:"defaultVersionNumber"`
	LatestVersionNumber  int           `xml:"latestVersionNumber"`
	ID                   string        `xml:"launchTemplateId"`
	Name                 string        `xml:"launchTemplateName"`
}

type ec2LaunchTemplateVersion struct {
	CreateTime     ec2query.Time         `xml:"createTime"`
	CreatedBy      string                `xml:"createdBy"`
	DefaultVersion bool                  `xml:"defaultVersion"`
	Data           ec2LaunchTemplateData `xml:"launchTemplateData"`
	ID             string                `xml:"launchTemplateId"`
	Name           string                `xml:"launchTemplateName"`
	Description    string                `xml:"versionDescription,omitempty"`
	Number         int                   `xml:"versionNumber"`
}

type ec2LaunchTemplateData struct {
	ImageID      string                             `xml:"imageId,omitempty"`
	InstanceType string                             `xml:"instanceType,omitempty"`
	KeyName      string                             `xml:"keyName,omitempty"`
	UserData     string                             `xml:"userData,omitempty"`
	TagSpecs     ec2query.List[ec2TagSpecification] `xml:"tagSpecificationSet,omitempty"`
}

type ec2TagSpecification struct {
	ResourceType string                `xml:"resourceType"`
	Tags         ec2query.List[ec2Tag] `xml:"tagSet"`
}

func createdBy(account string) string { return "arn:aws:iam::" + account + ":root" }

func ec2LaunchTemplateOf(t launchtemplates.Template, account string) ec2LaunchTemplate {
	return ec2LaunchTemplate{CreateTime: ec2query.Time(t.CreatedAt), CreatedBy: createdBy(account),
		DefaultVersionNumber: t.DefaultVersion, LatestVersionNumber: t.LatestVersion, ID: t.ID, Name: t.Name}
}

func ec2LaunchTemplateVersionOf(v launchtemplates.Version, account string) ec2LaunchTemplateVersion {
	d := ec2LaunchTemplateData{ImageID: v.Data.ImageID, InstanceType: v.Data.InstanceType, KeyName: v.Data.KeyName}
	if v.Data.UserData != nil {
		d.UserData = base64.StdEncoding.EncodeToString(v.Data.UserData)
	}
	if len(v.Data.Tags) > 0 {
		spec := ec2TagSpecification{ResourceType: tags.Instance}
		for _, t := range v.Data.Tags {
			spec.Tags = append(spec.Tags, ec2Tag{Key: t.Key, Value: t.Value})
		}
		d.TagSpecs = ec2query.List[ec2TagSpecification]{spec}
	}
	return ec2LaunchTemplateVersion{CreateTime: ec2query.Time(v.CreatedAt), CreatedBy: createdBy(account), DefaultVersion: v.Default,
		Data: d, ID: v.TemplateID, Name: v.TemplateName, Description: v.Description, Number: v.Number}
}

// launchTemplateData reads LaunchTemplateData.*: what kumo launches with.
// Its user data is base64 text, as RunInstances' is.
func launchTemplateData(q *ec2query.Request) (launchtemplates.Data, error) {
	const p = "LaunchTemplateData."
	var d launchtemplates.Data
	d.ImageID, _ = q.OptionalString(p + "ImageId")
	d.InstanceType, _ = q.OptionalString(p + "InstanceType")
	d.KeyName, _ = q.OptionalString(p + "KeyName")
	if ud, given := q.OptionalString(p + "UserData"); given {
		b, err := base64.StdEncoding.DecodeString(ud)
		if err != nil {
			return d, ec2query.InvalidParameterValue("Invalid BASE64 encoding of user data.")
		}
		if len(b) > maxUserData {
			return d, ec2query.InvalidParameterValue("User data is limited to %d bytes", maxUserData)
		}
		d.UserData = b
	}
	specs, err := q.TagSpecifications(p + "TagSpecification")
	if err != nil {
		return d, err
	}
	d.Tags, err = instanceTags(specs)
	return d, err
}

// templateRef reads LaunchTemplateId or LaunchTemplateName under prefix.
func templateRef(q *ec2query.Request, prefix string) launchtemplates.Ref {
	var ref launchtemplates.Ref
	ref.ID, _ = q.OptionalString(prefix + "LaunchTemplateId")
	ref.Name, _ = q.OptionalString(prefix + "LaunchTemplateName")
	return ref
}

func (s *Server) ec2CreateLaunchTemplate(c *ec2Call) (any, error) {
	q := c.req
	name, err := q.String("LaunchTemplateName")
	if err != nil {
		return nil, err
	}
	description, _ := q.OptionalString("VersionDescription")
	data, err := launchTemplateData(q)
	if err != nil {
		return nil, err
	}
	// SDKs send a client token with every create. Templates keep none: a
	// retry after a lost answer finds the name taken and says so.
	q.OptionalString("ClientToken")
	if err := c.finish(func() error { return launchtemplates.Check(name, description, data) }); err != nil {
		return nil, err
	}
	v, err := s.launchTemplates.Create(c.ctx, c.account, name, description, data)
	t := launchtemplates.Template{ID: v.TemplateID, Name: v.TemplateName, DefaultVersion: 1, LatestVersion: 1, CreatedAt: v.CreatedAt}
	return templateAnswer(t, c.account, err)
}

// templateAnswer is the answer of the actions that answer with one
// template: Create, Modify and DeleteLaunchTemplate.
func templateAnswer(t launchtemplates.Template, account string, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return struct {
		Template ec2LaunchTemplate `xml:"launchTemplate"`
	}{ec2LaunchTemplateOf(t, account)}, nil
}

func (s *Server) ec2CreateLaunchTemplateVersion(c *ec2Call) (any, error) {
	q := c.req
	ref := templateRef(q, "")
	source, _ := q.OptionalString("SourceVersion")
	description, _ := q.OptionalString("VersionDescription")
	data, err := launchTemplateData(q)
	if err != nil {
		return nil, err
	}
	q.OptionalString("ClientToken") // as for CreateLaunchTemplate
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	v, err := s.launchTemplates.CreateVersion(c.ctx, c.account, ref, source, description, data)
	if err != nil {
		return nil, err
	}
	return struct {
		Version ec2LaunchTemplateVersion `xml:"launchTemplateVersion"`
	}{ec2LaunchTemplateVersionOf(v, c.account)}, nil
}

// ec2DescribeLaunchTemplates lists the caller's templates, by id or name
// and filtered. They are few: one page holds them all.
func (s *Server) ec2DescribeLaunchTemplates(c *ec2Call) (any, error) {
	q := c.req
	idList, err := q.Strings("LaunchTemplateId")
	if err != nil {
		return nil, err
	}
	names, err := q.Strings("LaunchTemplateName")
	if err != nil {
		return nil, err
	}
	filters, err := q.Filters()
	if err != nil {
		return nil, err
	}
	if _, _, err := q.OptionalInt("MaxResults", 1, 200); err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	list, err := s.launchTemplates.List(c.ctx, c.account, idList, names)
	if err != nil {
		return nil, err
	}
	out := struct {
		Templates ec2query.List[ec2LaunchTemplate] `xml:"launchTemplates"`
	}{ec2query.List[ec2LaunchTemplate]{}}
	for _, t := range list {
		v := ec2LaunchTemplateOf(t, c.account)
		ok, err := matchAll(filters, map[string]func() []string{"launch-template-name": value(v.Name)})
		if err != nil {
			return nil, err
		}
		if ok {
			out.Templates = append(out.Templates, v)
		}
	}
	return out, nil
}

func (s *Server) ec2DescribeLaunchTemplateVersions(c *ec2Call) (any, error) {
	q := c.req
	ref := templateRef(q, "")
	named, err := q.Strings("LaunchTemplateVersion")
	if err != nil {
		return nil, err
	}
	minVersion, _, err := q.OptionalInt("MinVersion", 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	maxVersion, _, err := q.OptionalInt("MaxVersion", 1, math.MaxInt32)
	if err != nil {
		return nil, err
	}
	if _, _, err := q.OptionalInt("MaxResults", 1, 200); err != nil {
		return nil, err
	}
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	list, err := s.launchTemplates.Versions(c.ctx, c.account, ref, named, minVersion, maxVersion)
	if err != nil {
		return nil, err
	}
	out := struct {
		Versions ec2query.List[ec2LaunchTemplateVersion] `xml:"launchTemplateVersionSet"`
	}{ec2query.List[ec2LaunchTemplateVersion]{}}
	for _, v := range list {
		out.Versions = append(out.Versions, ec2LaunchTemplateVersionOf(v, c.account))
	}
	return out, nil
}

func (s *Server) ec2ModifyLaunchTemplate(c *ec2Call) (any, error) {
	q := c.req
	ref := templateRef(q, "")
	version, err := q.String("SetDefaultVersion")
	if err != nil {
		return nil, err
	}
	q.OptionalString("ClientToken") // setting a default twice is setting it once
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	t, err := s.launchTemplates.SetDefault(c.ctx, c.account, ref, version)
	return templateAnswer(t, c.account, err)
}

func (s *Server) ec2DeleteLaunchTemplate(c *ec2Call) (any, error) {
	ref := templateRef(c.req, "")
	if err := c.finish(nil); err != nil {
		return nil, err
	}
	t, err := s.launchTemplates.Delete(c.ctx, c.account, ref)
	return templateAnswer(t, c.account, err)
}
