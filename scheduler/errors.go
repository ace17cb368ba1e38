package scheduler

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"kumo/internal/errs"
)

// Reason says why a host could not take an instance. Reasons are phrased
// to follow a number of hosts in a message ("2 draining").
type Reason string

const (
	ReasonDraining         Reason = "draining"
	ReasonDown             Reason = "down" // or in a state the scheduler does not know
	ReasonZone             Reason = "in another zone"
	ReasonArch             Reason = "of another architecture"
	ReasonCPU              Reason = "short of vCPUs"
	ReasonMemory           Reason = "short of memory"
	ReasonGroupMember      Reason = "already holding an instance of the spread group"
	ReasonZoneLimit        Reason = "in a zone at the spread group's limit"
	ReasonOtherPartition   Reason = "holding another partition of the group"
	ReasonClusterElsewhere Reason = "not the cluster group's host"
)

// InsufficientCapacityError says the hosts cannot take the whole request,
// so none of it was placed. It wraps errs.InsufficientSpace, which the API
// answers as EC2 does: InsufficientInstanceCapacity.
type InsufficientCapacityError struct {
	InstanceType  string
	Size          Resources
	Zone          string // "" if the request named none
	Group         string
	GroupStrategy GroupStrategy
	Requested     int
	// Fit is how many of Requested the hosts could take; for a cluster
	// group, how many fit together on one host.
	Fit int
	// Rejected says, by host ID, why each host could not take the first
	// instance that did not fit.
	Rejected map[string]Reason
}

func (e *InsufficientCapacityError) Error() string {
	var b strings.Builder
	if e.InstanceType != "" {
		fmt.Fprintf(&b, "We currently do not have sufficient %s capacity", e.InstanceType)
	} else {
		fmt.Fprintf(&b, "We currently do not have sufficient capacity for instances of %d vCPUs and %d MiB", e.Size.VCPUs, e.Size.MemoryMiB)
	}
	if e.Zone != "" {
		fmt.Fprintf(&b, " in the Availability Zone you requested (%s)", e.Zone)
	} else {
		b.WriteString(" in any Availability Zone")
	}
	if e.Group != "" {
		fmt.Fprintf(&b, " for %s placement group '%s'", e.GroupStrategy, e.Group)
	}
	if e.GroupStrategy == GroupCluster {
		fmt.Fprintf(&b, ": at most %d of the %d instances requested fit on one host.", e.Fit, e.Requested)
	} else {
		fmt.Fprintf(&b, ": %d of the %d instances requested fit.", e.Fit, e.Requested)
	}
	b.WriteString(" " + summarise(e.Rejected))
	return b.String()
}

func (e *InsufficientCapacityError) Unwrap() error { return errs.InsufficientSpace }

// summarise counts hosts by reason, most common first, so a fleet of a
// thousand hosts still fits in one sentence.
func summarise(rejected map[string]Reason) string {
	if len(rejected) == 0 {
		return "There are no hosts."
	}
	counts := map[Reason]int{}
	for _, r := range rejected {
		counts[r]++
	}
	reasons := make([]Reason, 0, len(counts))
	for r := range counts {
		reasons = append(reasons, r)
	}
	slices.SortFunc(reasons, func(a, b Reason) int {
		return cmp.Or(cmp.Compare(counts[b], counts[a]), cmp.Compare(a, b))
	})
	parts := make([]string, len(reasons))
	for i, r := range reasons {
		parts[i] = fmt.Sprintf("%d %s", counts[r], r)
	}
	return "Hosts: " + strings.Join(parts, ", ") + "."
}

// ZoneCount is a spread group's instances in one zone.
type ZoneCount struct {
	Zone      string
	Instances int
}

// GroupLimitError says a spread group would exceed MaxSpreadPerZone in
// the zones the request may use, however many hosts there are. EC2 answers
// this with InsufficientInstanceCapacity too, so it wraps
// errs.InsufficientSpace; the message says it is the group's limit.
type GroupLimitError struct {
	Group     string
	Requested int
	Room      int         // how many more instances the zones can hold
	Zones     []ZoneCount // the group's instances in each zone, by zone name
}

func (e *GroupLimitError) Error() string {
	parts := make([]string, len(e.Zones))
	for i, z := range e.Zones {
		parts[i] = fmt.Sprintf("%s has %d", z.Zone, z.Instances)
	}
	return fmt.Sprintf("spread placement group '%s' holds at most %d running instances per Availability Zone (%s): %d more fit, %d were requested",
		e.Group, MaxSpreadPerZone, strings.Join(parts, ", "), e.Room, e.Requested)
}

func (e *GroupLimitError) Unwrap() error { return errs.InsufficientSpace }

// InvalidRequestError says the request itself is wrong: no fleet could
// satisfy it. It wraps errs.InvalidParameter.
type InvalidRequestError struct {
	Field string // the Request field at fault
	Msg   string
}

func (e *InvalidRequestError) Error() string { return e.Msg }
func (e *InvalidRequestError) Unwrap() error { return errs.InvalidParameter }

func invalid(field, format string, args ...any) error {
	return &InvalidRequestError{Field: field, Msg: fmt.Sprintf(format, args...)}
}
