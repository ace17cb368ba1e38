package api

import (
	"slices"
	"strings"

	"kumo/api/ec2query"
	"kumo/tags"
)

// ec2CreateTags gives the account's resources the tags. A tag without a
// value gets the empty one, as on EC2.
func (s *Server) ec2CreateTags(c *ec2Call) (any, error) {
	ids, given, err := readTagging(c)
	if err != nil {
		return nil, err
	}
	if len(given) == 0 {
		return nil, ec2query.MissingParameter("Tag")
	}
	list := make([]tags.Tag, len(given))
	for i, t := range given {
		list[i] = tags.Tag{Key: t.Key, Value: t.Value}
	}
	if err := c.finish(func() error { return s.tags.CheckCreate(c.ctx, c.account, ids, list) }); err != nil {
		return nil, err
	}
	if err := s.tags.Create(c.ctx, c.account, ids, list); err != nil {
		return nil, err
	}
	return ec2query.ReturnTrue, nil
}

// ec2DeleteTags deletes tags from the account's resources: a tag given
// without a value whatever its value, one with a value (even empty) only
// if it matches, and every tag when none is given.
func (s *Server) ec2DeleteTags(c *ec2Call) (any, error) {
	ids, given, err := readTagging(c)
	if err != nil {
		return nil, err
	}
	filters := make([]tags.TagFilter, len(given))
	for i, t := range given {
		filters[i] = tags.TagFilter{Key: t.Key, Value: t.Value, HasValue: t.HasValue}
	}
	if err := c.finish(func() error { return s.tags.CheckDelete(c.ctx, c.account, ids, filters) }); err != nil {
		return nil, err
	}
	if err := s.tags.Delete(c.ctx, c.account, ids, filters); err != nil {
		return nil, err
	}
	return ec2query.ReturnTrue, nil
}

// readTagging reads what CreateTags and DeleteTags both take.
func readTagging(c *ec2Call) (ids []string, given []ec2query.Tag, err error) {
	if ids, err = c.req.Strings("ResourceId"); err != nil {
		return nil, nil, err
	}
	if given, err = c.req.Tags("Tag"); err != nil {
		return nil, nil, err
	}
	if len(ids) == 0 {
		return nil, nil, ec2query.MissingParameter("ResourceId")
	}
	return ids, given, nil
}

// ec2TagDescription is a tag in DescribeTags' shape.
type ec2TagDescription struct {
	ResourceID   string `xml:"resourceId"`
	ResourceType string `xml:"resourceType"`
	Key          string `xml:"key"`
	Value        string `xml:"value"`
}

// ec2DescribeTags lists the account's tags, filtered and in pages.
func (s *Server) ec2DescribeTags(c *ec2Call) (any, error) {
	filters, err := c.req.Filters()
	if err != nil {
		return nil, err
	}
	page, err := readPage(c, 5, 1000)
	if err != nil {
		return nil, err
	}
	var q tags.Query
	err = c.finish(func() (err error) {
		q, err = tagQuery(filters)
		return err
	})
	if err != nil {
		return nil, err
	}
	list, err := s.tags.Describe(c.ctx, c.account, q)
	if err != nil {
		return nil, err
	}
	var matched []ec2TagDescription
	for _, t := range list {
		v := ec2TagDescription{ResourceID: t.ResourceID, ResourceType: t.ResourceType, Key: t.Key, Value: t.Value}
		ok, err := matchAll(filters, tagFields(v))
		if err != nil {
			return nil, err
		}
		if ok {
			matched = append(matched, v)
		}
	}
	// A resource has one tag of a key, so resource and key name a tag.
	items, next := paginate(page, matched, func(t ec2TagDescription) string { return t.ResourceID + "\x00" + t.Key })
	return struct {
		Tags      ec2query.List[ec2TagDescription] `xml:"tagSet"`
		NextToken string                           `xml:"nextToken,omitempty"`
	}{items, next}, nil
}

// tagFields are the DescribeTags filters.
func tagFields(v ec2TagDescription) map[string]func() []string {
	return map[string]func() []string{
		"key":           value(v.Key),
		"value":         value(v.Value),
		"resource-id":   value(v.ResourceID),
		"resource-type": value(v.ResourceType),
	}
}

// tagQuery refuses filters DescribeTags does not have and narrows the
// listing by those without wildcards, so that the store reads only the
// tags that can match. matchAll still applies every filter.
func tagQuery(filters []ec2query.Filter) (tags.Query, error) {
	var q tags.Query
	for _, f := range filters {
		var narrow *[]string
		switch f.Name {
		case "key":
			narrow = &q.Keys
		case "value":
			narrow = &q.Values
		case "resource-id":
			narrow = &q.ResourceIDs
		case "resource-type":
			narrow = &q.ResourceTypes
		default:
			return tags.Query{}, ec2query.InvalidParameterValue("The filter '%s' is invalid", f.Name)
		}
		if len(f.Values) == 0 {
			return tags.Query{}, ec2query.InvalidParameterValue("The filter '%s' has no value", f.Name)
		}
		// A second filter of the same name is left to matchAll.
		if *narrow == nil && !slices.ContainsFunc(f.Values, func(v string) bool { return strings.ContainsAny(v, "*?") }) {
			*narrow = f.Values
		}
	}
	return q, nil
}
