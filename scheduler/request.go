package scheduler

// Strategy orders the hosts that pass the filters.
type Strategy string

const (
	// Binpack fills the fullest host that still fits, so free capacity
	// stays together on as few hosts as possible: empty hosts remain empty
	// (ready for a large instance, or to be drained) and the fleet runs
	// dense. Busy hosts come before empty ones, then the highest dominant
	// share after placement (see score). It is the default.
	Binpack Strategy = "binpack"
	// Spread puts each instance on the emptiest host, so a host's failure
	// touches as few instances as possible and guests contend less.
	Spread Strategy = "spread"
)

// GroupStrategy is a placement group's rule, as EC2 names them.
type GroupStrategy string

const (
	// GroupCluster keeps the group's instances on one host.
	GroupCluster GroupStrategy = "cluster"
	// GroupSpread puts each of the group's instances on its own host, at
	// most MaxSpreadPerZone per Availability Zone.
	GroupSpread GroupStrategy = "spread"
	// GroupPartition splits the group into partitions that share no host.
	GroupPartition GroupStrategy = "partition"
)

// EC2's limits on placement groups.
const (
	MaxSpreadPerZone = 7 // running instances of a spread group per zone
	MaxPartitions    = 7 // partitions of a partition group
)

// Group is the placement group a request launches into.
type Group struct {
	Name       string
	Strategy   GroupStrategy
	Partitions int // partition groups only: K, 1..MaxPartitions
}

// ImageRequirements is what the image needs from the instance and its host.
type ImageRequirements struct {
	Arch         string // "" means any
	MinMemoryMiB int64
}

// Request asks for Count instances of one size.
type Request struct {
	Count        int
	InstanceType string // names the size in messages, e.g. "t2.micro"; may be empty
	Size         Resources
	Zone         string // "" means any zone
	Arch         string // the instance type's architecture; "" means any
	Image        ImageRequirements

	Group *Group // nil: no placement group
	// Partition pins a partition group's instances to one partition
	// (1..K); zero lets the scheduler pick.
	Partition int

	Strategy Strategy // "" means Binpack
}

// arch is the architecture a host must have, "" if any will do. validate
// has made sure the instance type and the image do not disagree.
func (r *Request) arch() string {
	if r.Arch != "" {
		return r.Arch
	}
	return r.Image.Arch
}

func (r *Request) groupName() string {
	if r.Group == nil {
		return ""
	}
	return r.Group.Name
}

func (r *Request) groupStrategy() GroupStrategy {
	if r.Group == nil {
		return ""
	}
	return r.Group.Strategy
}

// validate rejects requests no fleet could satisfy, so that capacity
// errors only ever mean "not enough room".
func (r *Request) validate() error {
	switch {
	case r.Count < 1:
		return invalid("Count", "the instance count must be at least 1, not %d", r.Count)
	case r.Size.VCPUs < 1 || r.Size.MemoryMiB < 1:
		return invalid("Size", "an instance needs at least 1 vCPU and 1 MiB of memory, not %d vCPUs and %d MiB", r.Size.VCPUs, r.Size.MemoryMiB)
	case r.Strategy != "" && r.Strategy != Binpack && r.Strategy != Spread:
		return invalid("Strategy", "unknown strategy %q: use %q or %q", r.Strategy, Binpack, Spread)
	case r.Arch != "" && r.Image.Arch != "" && r.Arch != r.Image.Arch:
		return invalid("Arch", "the architecture %s of the instance type does not match the architecture %s of the image", r.Arch, r.Image.Arch)
	case r.Size.MemoryMiB < r.Image.MinMemoryMiB:
		return invalid("Size", "the image needs at least %d MiB of memory; the instance has %d MiB", r.Image.MinMemoryMiB, r.Size.MemoryMiB)
	}
	return r.validateGroup()
}

func (r *Request) validateGroup() error {
	g := r.Group
	if g == nil {
		if r.Partition != 0 {
			return invalid("Partition", "a partition number needs a partition placement group")
		}
		return nil
	}
	switch {
	case g.Name == "":
		return invalid("Group", "the placement group has no name")
	case g.Strategy != GroupCluster && g.Strategy != GroupSpread && g.Strategy != GroupPartition:
		return invalid("Group", "placement group '%s' has unknown strategy %q", g.Name, g.Strategy)
	case g.Strategy != GroupPartition && r.Partition != 0:
		return invalid("Partition", "a partition number needs a partition placement group; '%s' is a %s group", g.Name, g.Strategy)
	case g.Strategy == GroupPartition && (g.Partitions < 1 || g.Partitions > MaxPartitions):
		return invalid("Group", "placement group '%s' has %d partitions; a partition group has 1 to %d", g.Name, g.Partitions, MaxPartitions)
	case r.Partition < 0 || r.Partition > g.Partitions:
		return invalid("Partition", "partition number %d is out of range: placement group '%s' has partitions 1 to %d", r.Partition, g.Name, g.Partitions)
	}
	return nil
}
