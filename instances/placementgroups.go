package instances

import (
	"context"
	"errors"
	"fmt"

	"kumo/internal/errs"
	"kumo/internal/ids"
	"kumo/store"
)

// Placement groups, as EC2's: an account's named rule for where its
// instances go (cluster: together on one host; spread: each on a host of
// its own, at most 7 per zone; partition: K partitions that share no
// host). The scheduler enforces the rule; this keeps the groups.

// Error kinds of placement groups, mapped to EC2 codes by the API.
var (
	ErrGroupNotFound  = errors.New("placement group not found")
	ErrGroupDuplicate = errors.New("placement group name taken")
	ErrGroupInUse     = errors.New("placement group in use")
)

// Placement group strategies.
const (
	GroupCluster   = "cluster"
	GroupSpread    = "spread"
	GroupPartition = "partition"
)

const (
	// MaxPartitions is EC2's limit on a partition group's partitions.
	MaxPartitions = 7
	// defaultPartitions is a partition group's when the request names
	// none.
	defaultPartitions = 2
	// maxGroupName is EC2's limit on a placement group's name.
	maxGroupName = 255
)

// PlacementGroupRequest describes a new placement group.
type PlacementGroupRequest struct {
	Name       string
	Strategy   string
	Partitions int // partition groups only; 0 takes the default
}

// CheckPlacementGroup validates req and fills in its default, so that a
// DryRun can say whether the call would succeed.
func CheckPlacementGroup(req *PlacementGroupRequest) error {
	switch {
	case req.Name == "":
		return errs.New(errs.MissingParameter, "the request must contain the parameter GroupName")
	case len(req.Name) > maxGroupName:
		return errs.New(errs.InvalidParameter, "a placement group's name is at most %d characters", maxGroupName)
	}
	for _, r := range req.Name {
		if r < 0x20 || r > 0x7e {
			return errs.New(errs.InvalidParameter, "a placement group's name is printable ASCII")
		}
	}
	switch req.Strategy {
	case GroupCluster, GroupSpread:
		if req.Partitions != 0 {
			return errs.New(errs.InvalidParameter, "PartitionCount is only for the partition strategy")
		}
	case GroupPartition:
		if req.Partitions == 0 {
			req.Partitions = defaultPartitions
		}
		if req.Partitions < 1 || req.Partitions > MaxPartitions {
			return errs.New(errs.InvalidParameter, "PartitionCount must be between 1 and %d", MaxPartitions)
		}
	case "":
		return errs.New(errs.MissingParameter, "the request must contain the parameter Strategy")
	default:
		return errs.New(errs.InvalidParameter, "the strategy '%s' is not one of cluster, spread, partition", req.Strategy)
	}
	return nil
}

// CreatePlacementGroup makes a group of the account's.
func (v Scoped) CreatePlacementGroup(ctx context.Context, req PlacementGroupRequest) (store.PlacementGroup, error) {
	if err := CheckPlacementGroup(&req); err != nil {
		return store.PlacementGroup{}, err
	}
	g := store.PlacementGroup{ID: ids.New("pg"), Owner: v.owner, Name: req.Name, Strategy: req.Strategy,
		Partitions: req.Partitions, CreatedAt: v.s.clock.Now()}
	err := v.s.store.InsertPlacementGroup(ctx, g)
	if errors.Is(err, store.ErrDuplicate) {
		return store.PlacementGroup{}, errs.New(ErrGroupDuplicate, "the placement group '%s' already exists", req.Name)
	}
	return g, err
}

// PlacementGroups lists the account's groups.
func (v Scoped) PlacementGroups(ctx context.Context) ([]store.PlacementGroup, error) {
	return v.s.store.PlacementGroups(ctx, v.owner)
}

// DeletePlacementGroup removes a group of the account's that holds no
// instance but terminated ones.
func (v Scoped) DeletePlacementGroup(ctx context.Context, name string) error {
	err := v.s.store.DeletePlacementGroup(ctx, v.owner, name)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return errs.New(ErrGroupNotFound, "the placement group '%s' is unknown", name)
	case errors.Is(err, store.ErrInUse):
		return errs.New(ErrGroupInUse, "the placement group '%s' is in use", name)
	}
	return err
}

// placementOf is where a launch may go: the owner's group called name,
// and partition, which only a partition group takes.
func (s *Service) placementOf(ctx context.Context, owner, name string, partition int) (Placement, error) {
	if name == "" {
		if partition != 0 {
			return Placement{}, errs.New(errs.InvalidParameter, "a partition number needs a partition placement group")
		}
		return Placement{}, nil
	}
	g, err := s.store.PlacementGroupByName(ctx, owner, name)
	if errors.Is(err, store.ErrNotFound) {
		return Placement{}, errs.New(ErrGroupNotFound, "the placement group '%s' is unknown", name)
	}
	if err != nil {
		return Placement{}, err
	}
	if partition != 0 && (g.Strategy != GroupPartition || partition < 1 || partition > g.Partitions) {
		return Placement{}, errs.New(errs.InvalidParameter, "partition %d is not one of placement group '%s' (%s, %d partitions)",
			partition, name, g.Strategy, g.Partitions)
	}
	return Placement{Group: &g, Partition: partition}, nil
}

// placementOfInstance is where a stopped instance may start again: on
// its host, in its group and partition.
func (s *Service) placementOfInstance(ctx context.Context, in store.Instance) (Placement, error) {
	p := Placement{Hosts: []string{in.Host}, Partition: in.Partition}
	if in.PlacementGroup == "" {
		return p, nil
	}
	g, err := s.store.PlacementGroupByID(ctx, in.PlacementGroup)
	if err != nil {
		return Placement{}, fmt.Errorf("placement group of %s: %w", in.ID, err)
	}
	p.Group = &g
	return p, nil
}
