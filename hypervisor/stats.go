package hypervisor

import (
	"context"
	"time"
)

// DomainStats are the resource counters of a running domain. They count
// from the start of its current run: within a run they only grow, and the
// next run begins again at zero. Counters the driver cannot read are zero.
type DomainStats struct {
	Name string
	// VCPUs is how many virtual CPUs the domain has now; 0 when the driver
	// does not say.
	VCPUs int
	// CPUTime is the host CPU time the domain has used, all threads
	// together, so it may grow faster than wall time with several vCPUs.
	CPUTime time.Duration
	// Disk counters are summed over the domain's disks.
	DiskReadBytes  uint64
	DiskWriteBytes uint64
	DiskReadOps    uint64
	DiskWriteOps   uint64
	// Network counters are summed over the domain's NICs, from the guest's
	// side: received is what reached the guest.
	NetRxBytes uint64
	NetTxBytes uint64
}

// StatsReader is implemented by drivers that can read the counters of all
// of a host's running domains at once, so that sampling a full host costs
// one call rather than one per domain.
type StatsReader interface {
	// DomainStats returns the counters of every running or paused domain,
	// kumo's or not; callers filter. With an error it may still return the
	// domains it could read, which callers should use: one broken domain
	// must not hide the others.
	DomainStats(ctx context.Context) ([]DomainStats, error)
}
