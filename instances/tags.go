package instances

import (
	"context"
	"errors"
	"slices"

	"kumo/internal/errs"
	"kumo/store"
	"kumo/tags"
)

// The tags service reaches instances through these: whose they are, and
// their names, which the REST API and kumo ls show and which are their
// Name tags kept beside the instance.
var _ interface {
	tags.Resources
	tags.Named
} = (*Service)(nil)

// Own returns nil if every id names one of owner's instances, else the
// error the account's own actions would answer for the first that does not.
func (s *Service) Own(ctx context.Context, owner string, ids []string) error {
	return s.For(owner).own(ctx, ids)
}

// SetName sets the name of owner's instance id; "" clears it.
func (s *Service) SetName(ctx context.Context, owner, id, name string) error {
	if err := s.Own(ctx, owner, []string{id}); err != nil {
		return err
	}
	err := s.store.SetInstanceName(ctx, id, name)
	if errors.Is(err, store.ErrNotFound) { // purged since Own looked
		return errs.New(ErrNotFound, "the instance ID '%s' does not exist", id)
	}
	return err
}

// nameAndTags returns the name and the tags of the instances req launches:
// a Name tag gives the name, and a name given alone becomes a Name tag.
func nameAndTags(req RunRequest) (string, []tags.Tag, error) {
	name, list := req.Name, req.Tags
	switch i := slices.IndexFunc(list, func(t tags.Tag) bool { return t.Key == tags.NameKey }); {
	case i < 0 && name != "":
		list = append(slices.Clip(list), tags.Tag{Key: tags.NameKey, Value: name})
	case i >= 0 && name != "" && list[i].Value != name:
		return "", nil, errs.New(errs.InvalidParameter, "the name '%s' and the Name tag '%s' differ", name, list[i].Value)
	case i >= 0:
		name = list[i].Value
	}
	return name, list, tags.Check(list)
}

// tagRows gives every instance of rows each of the tags.
func tagRows(rows []store.Instance, list []tags.Tag) []store.Tag {
	out := make([]store.Tag, 0, len(rows)*len(list))
	for _, r := range rows {
		for _, t := range list {
			out = append(out, store.Tag{ResourceID: r.ID, Key: t.Key, Value: t.Value})
		}
	}
	return out
}
