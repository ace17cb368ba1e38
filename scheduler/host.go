package scheduler

import "math"

// HostState says whether a host takes new instances.
type HostState string

const (
	HostUp       HostState = "up"       // takes new instances
	HostDraining HostState = "draining" // keeps its instances, takes no new ones
	HostDown     HostState = "down"     // unreachable: takes nothing
)

// Default overcommit ratios, as OpenStack Nova ships them. Guests rarely
// keep all their vCPUs busy, so CPU time is shared sixteen ways; memory a
// guest has touched cannot be taken back without swapping or the OOM
// killer, so it is not overcommitted.
const (
	DefaultCPURatio    = 16.0
	DefaultMemoryRatio = 1.0
)

// Resources is an amount of CPU and memory.
type Resources struct {
	VCPUs     int
	MemoryMiB int64
}

func (r Resources) plus(o Resources) Resources {
	return Resources{r.VCPUs + o.VCPUs, r.MemoryMiB + o.MemoryMiB}
}

func (r Resources) times(n int) Resources {
	return Resources{r.VCPUs * n, r.MemoryMiB * int64(n)}
}

// Host is one hypervisor as the caller last saw it. IDs must be unique
// within a snapshot: assignments name hosts by ID.
type Host struct {
	ID   string
	Name string // for people; placement uses ID
	Zone string
	Arch string // e.g. "x86_64", "aarch64"

	State HostState

	// Capacity is what the host itself reports (physical CPUs, memory).
	// Reserved is kept back for the host's own processes and never given
	// to instances.
	Capacity Resources
	Reserved Resources

	// Overcommit ratios applied after the reservation; zero means the
	// default (DefaultCPURatio, DefaultMemoryRatio).
	CPURatio    float64
	MemoryRatio float64

	// Used is what the instances already on the host claim: every
	// instance that holds its vCPUs and memory there, whatever its state.
	Used Resources

	// Groups holds, by placement group name, the group's instances on this
	// host, counted like Used. Only the group a request names is read.
	Groups map[string]Membership
}

// Membership is what a host holds of one placement group.
type Membership struct {
	Instances int
	// Partition is the partition those instances belong to, for partition
	// groups (1..K). Place never mixes partitions of a group on a host, so
	// one number is enough.
	Partition int
}

// Effective is the capacity instances may claim on h:
// (Capacity - Reserved) * ratio, rounded down and never negative. Rounding
// down keeps "does it fit" a question about whole vCPUs and MiB.
func (h Host) Effective() Resources {
	cpu, mem := h.CPURatio, h.MemoryRatio
	if cpu == 0 {
		cpu = DefaultCPURatio
	}
	if mem == 0 {
		mem = DefaultMemoryRatio
	}
	return Resources{
		VCPUs:     int(max(0, math.Floor(float64(h.Capacity.VCPUs-h.Reserved.VCPUs)*cpu))),
		MemoryMiB: int64(max(0, math.Floor(float64(h.Capacity.MemoryMiB-h.Reserved.MemoryMiB)*mem))),
	}
}

// node is a host's working copy during one Place call: what it can hold,
// what it holds so far (its own instances plus this request's), and its
// share of the request's placement group.
type node struct {
	id     string
	zone   string
	limit  Resources
	used   Resources
	reason Reason // why a filter ruled the host out for the whole request; "" if none

	members   int // instances of the request's group
	partition int // the partition those members belong to
}

func (n *node) init(h *Host, group string) {
	*n = node{id: h.ID, zone: h.Zone, limit: h.Effective(), used: h.Used}
	if group != "" {
		m := h.Groups[group]
		n.members, n.partition = m.Instances, m.Partition
	}
}

// room is how many instances of size n can still take.
func (n *node) room(size Resources) int {
	free := Resources{n.limit.VCPUs - n.used.VCPUs, n.limit.MemoryMiB - n.used.MemoryMiB}
	if free.VCPUs < 0 || free.MemoryMiB < 0 {
		return 0
	}
	return min(free.VCPUs/size.VCPUs, int(free.MemoryMiB/size.MemoryMiB))
}

// take records one instance of size on n, with the request's group.
func (n *node) take(size Resources, partition int) {
	n.used = n.used.plus(size)
	n.members++
	n.partition = partition
}
