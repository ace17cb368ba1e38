package tags

import (
	"context"
	"errors"
	"slices"

	"kumo/internal/errs"
	"kumo/store"
)

// Create gives each of owner's resources the tags, replacing the value of
// a key a resource already has. Either every resource gets every tag or
// nothing changes.
func (s *Service) Create(ctx context.Context, owner string, resourceIDs []string, tags []Tag) error {
	ids, err := s.checkCreate(ctx, owner, resourceIDs, tags)
	if err != nil {
		return err
	}
	rows := make([]store.Tag, 0, len(ids)*len(tags))
	for _, id := range ids {
		for _, t := range tags {
			rows = append(rows, store.Tag{ResourceID: id, Key: t.Key, Value: t.Value})
		}
	}
	err = s.store.SetTags(ctx, owner, rows, MaxPerResource)
	if errors.Is(err, store.ErrLimit) {
		return errs.New(ErrLimitExceeded, "a resource may have at most %d tags", MaxPerResource)
	}
	if err != nil {
		return err
	}
	if slices.ContainsFunc(tags, func(t Tag) bool { return t.Key == NameKey }) {
		return s.mirrorNames(ctx, owner, ids)
	}
	return nil
}

// CheckCreate returns the error Create would and changes nothing, for a
// dry run. Only the limit of tags a resource may have is left for Create,
// which checks it as it writes.
func (s *Service) CheckCreate(ctx context.Context, owner string, resourceIDs []string, tags []Tag) error {
	_, err := s.checkCreate(ctx, owner, resourceIDs, tags)
	return err
}

func (s *Service) checkCreate(ctx context.Context, owner string, resourceIDs []string, tags []Tag) ([]string, error) {
	if len(tags) == 0 {
		return nil, errs.New(errs.MissingParameter, "at least one tag is required")
	}
	if err := Check(tags); err != nil {
		return nil, err
	}
	return s.own(ctx, owner, resourceIDs)
}

// Delete deletes from each of owner's resources the tags that filters name,
// or every tag when there are none. A key a resource does not have, or a
// value that does not match, is no error.
func (s *Service) Delete(ctx context.Context, owner string, resourceIDs []string, filters []TagFilter) error {
	ids, err := s.checkDelete(ctx, owner, resourceIDs, filters)
	if err != nil {
		return err
	}
	// With no filters the store deletes every tag, aws: ones included;
	// there are none, since users cannot create them and kumo sets none.
	matches := make([]store.TagMatch, len(filters))
	for i, f := range filters {
		matches[i] = store.TagMatch{Key: f.Key, Value: f.Value, AnyValue: !f.HasValue}
	}
	if err := s.store.DeleteTags(ctx, owner, ids, matches); err != nil {
		return err
	}
	if len(filters) == 0 || slices.ContainsFunc(filters, func(f TagFilter) bool { return f.Key == NameKey }) {
		return s.mirrorNames(ctx, owner, ids)
	}
	return nil
}

// CheckDelete returns the error Delete would and changes nothing, for a
// dry run.
func (s *Service) CheckDelete(ctx context.Context, owner string, resourceIDs []string, filters []TagFilter) error {
	_, err := s.checkDelete(ctx, owner, resourceIDs, filters)
	return err
}

func (s *Service) checkDelete(ctx context.Context, owner string, resourceIDs []string, filters []TagFilter) ([]string, error) {
	for _, f := range filters {
		if err := checkKey(f.Key); err != nil {
			return nil, err
		}
	}
	return s.own(ctx, owner, resourceIDs)
}

// own checks that owner owns every resource and returns their ids without
// repeats.
func (s *Service) own(ctx context.Context, owner string, resourceIDs []string) ([]string, error) {
	switch {
	case len(resourceIDs) == 0:
		return nil, errs.New(errs.MissingParameter, "at least one resource id is required")
	case len(resourceIDs) > MaxResources:
		return nil, errs.New(errs.InvalidParameter, "at most %d resources may be tagged at once; %d were given", MaxResources, len(resourceIDs))
	}
	var ids []string
	seen := make(map[string]bool, len(resourceIDs))
	byType := map[string][]string{}
	for _, id := range resourceIDs {
		if seen[id] {
			continue
		}
		seen[id] = true
		typ := typeOf(id)
		if _, ok := s.resources[typ]; !ok {
			return nil, errs.New(ErrInvalidID, "The ID '%s' is not valid", id)
		}
		ids = append(ids, id)
		byType[typ] = append(byType[typ], id)
	}
	for _, p := range prefixes {
		if list := byType[p.typ]; len(list) > 0 {
			if err := s.resources[p.typ].Own(ctx, owner, list); err != nil {
				return nil, err
			}
		}
	}
	return ids, nil
}

// mirrorNames gives the resources that keep a name of their own their Name
// tag as it now is. It runs after the tags changed, and a failure leaves a
// stale name until the next change of the tag: a retry of the call that
// failed repairs it, since setting or deleting tags again changes nothing
// else.
func (s *Service) mirrorNames(ctx context.Context, owner string, ids []string) error {
	var named []string
	for _, id := range ids {
		if _, ok := s.resources[typeOf(id)].(Named); ok {
			named = append(named, id)
		}
	}
	if len(named) == 0 {
		return nil
	}
	rows, err := s.store.Tags(ctx, owner, store.TagFilter{ResourceIDs: named, Keys: []string{NameKey}})
	if err != nil {
		return err
	}
	names := make(map[string]string, len(rows))
	for _, r := range rows {
		names[r.ResourceID] = r.Value
	}
	for _, id := range named {
		if err := s.resources[typeOf(id)].(Named).SetName(ctx, owner, id, names[id]); err != nil {
			return err
		}
	}
	return nil
}
