// Package tags owns resource tags and EC2's rules for them: at most 50 tags
// a resource, keys of 1 to 128 characters and values of up to 256, one
// value a key; keys starting with aws: reserved, so that users neither
// create nor delete them; at most 1000 resources a call. It tells the type
// of a resource from the prefix of its id ("i-" is an instance).
//
// Every call names the account it acts for. Whether that account owns the
// resources is asked of the service that owns their type, for all of them
// before anything changes, so that another account's resource is reported
// exactly as one that does not exist and a call is refused whole.
//
// It must not know HTTP or the API, which read requests and map this
// package's errors to EC2's codes, nor the services behind the resources:
// it reaches them through Resources and Named only.
package tags

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"kumo/store"
)

// Error kinds of this package, mapped to EC2 codes by the API. Bad keys and
// values are errs.InvalidParameter.
var (
	// ErrInvalidID is an id of no type of resource that takes tags.
	ErrInvalidID = errors.New("invalid resource id")
	// ErrLimitExceeded is a resource that would have more than
	// MaxPerResource tags.
	ErrLimitExceeded = errors.New("tag limit exceeded")
)

// EC2's limits.
const (
	MaxPerResource = 50
	MaxKey         = 128 // characters
	MaxValue       = 256 // characters
	MaxResources   = 1000
)

// NameKey is the tag that names a resource.
const NameKey = "Name"

// Instance is EC2's name for the type of instances.
const Instance = "instance"

// prefixes tells the type of a resource from its id.
var prefixes = []struct{ prefix, typ string }{{"i-", Instance}}

// Tag is a key and its value.
type Tag struct {
	Key   string
	Value string
}

// TagFilter names a tag to delete: the one with Key, whatever its value
// unless HasValue, and then only while its value is Value.
type TagFilter struct {
	Key      string
	Value    string
	HasValue bool
}

// ResourceTag is a tag with the resource it is on.
type ResourceTag struct {
	ResourceID   string
	ResourceType string
	Key          string
	Value        string
}

// Query narrows Describe: each field that is not empty keeps only the tags
// matching one of its values exactly.
type Query struct {
	ResourceIDs   []string
	ResourceTypes []string
	Keys          []string
	Values        []string
}

// Resources are the resources of one type, as their service sees them.
type Resources interface {
	// Own returns nil if every id names a resource of owner, else an error
	// of the service's own kinds (a malformed id, one that does not exist).
	// Another owner's resource is one that does not exist.
	Own(ctx context.Context, owner string, ids []string) error
}

// Named is implemented by Resources whose resources also keep their Name
// tag as a name of their own, which their service shows.
type Named interface {
	// SetName sets the name of owner's resource id; "" clears it.
	SetName(ctx context.Context, owner, id, name string) error
}

// Service keeps the tags of resources.
type Service struct {
	store     *store.Store
	resources map[string]Resources // by resource type
}

// New returns the service for the resource types given, by EC2's name
// (Instance): ids of any other type are refused.
func New(st *store.Store, resources map[string]Resources) *Service {
	return &Service{store: st, resources: resources}
}

// Of returns the tags of owner's resources by resource id, each list in
// the order of keys; a resource without tags is left out.
func (s *Service) Of(ctx context.Context, owner string, resourceIDs []string) (map[string][]Tag, error) {
	if len(resourceIDs) == 0 {
		return map[string][]Tag{}, nil
	}
	return s.byResource(ctx, owner, store.TagFilter{ResourceIDs: resourceIDs})
}

// OfType returns the tags of all owner's resources of a type (Instance),
// as Of does: a listing of every instance asks for this rather than
// naming a thousand ids.
func (s *Service) OfType(ctx context.Context, owner, resourceType string) (map[string][]Tag, error) {
	for _, p := range prefixes {
		if p.typ == resourceType {
			return s.byResource(ctx, owner, store.TagFilter{IDPrefixes: []string{p.prefix}})
		}
	}
	return nil, fmt.Errorf("tags: no resource type %q", resourceType)
}

func (s *Service) byResource(ctx context.Context, owner string, f store.TagFilter) (map[string][]Tag, error) {
	rows, err := s.store.Tags(ctx, owner, f)
	if err != nil {
		return nil, err
	}
	out := map[string][]Tag{}
	for _, r := range rows {
		out[r.ResourceID] = append(out[r.ResourceID], Tag{Key: r.Key, Value: r.Value})
	}
	return out, nil
}

// Describe lists owner's tags that pass q, ordered by resource and key.
func (s *Service) Describe(ctx context.Context, owner string, q Query) ([]ResourceTag, error) {
	f := store.TagFilter{ResourceIDs: q.ResourceIDs, Keys: q.Keys, Values: q.Values}
	for _, p := range prefixes {
		if slices.Contains(q.ResourceTypes, p.typ) {
			f.IDPrefixes = append(f.IDPrefixes, p.prefix)
		}
	}
	if len(q.ResourceTypes) > 0 && len(f.IDPrefixes) == 0 {
		return []ResourceTag{}, nil
	}
	rows, err := s.store.Tags(ctx, owner, f)
	if err != nil {
		return nil, err
	}
	out := make([]ResourceTag, len(rows))
	for i, r := range rows {
		out[i] = ResourceTag{ResourceID: r.ResourceID, ResourceType: typeOf(r.ResourceID), Key: r.Key, Value: r.Value}
	}
	return out, nil
}

// typeOf returns the type of resource id names, "" for none.
func typeOf(id string) string {
	for _, p := range prefixes {
		if strings.HasPrefix(id, p.prefix) {
			return p.typ
		}
	}
	return ""
}
