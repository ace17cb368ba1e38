package fake

import (
	"context"
	"fmt"
	"sort"

	"kumo/hypervisor"
)

var _ hypervisor.StatsReader = (*Driver)(nil)

// DomainStats returns the counters AddStats gave each domain that is not
// shut off, with its vCPUs as defined, ordered by name.
func (d *Driver) DomainStats(ctx context.Context) ([]hypervisor.DomainStats, error) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if err := d.enter(ctx, "domain-stats"); err != nil {
		return nil, err
	}
	out := make([]hypervisor.DomainStats, 0, len(d.domains))
	for _, dom := range d.domains {
		if dom.state == hypervisor.PowerShutoff {
			continue
		}
		s := dom.stats
		s.Name, s.VCPUs = dom.spec.Name, dom.spec.VCPUs
		out = append(out, s)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out, nil
}

// AddStats plays the guest of a running domain at work: by's counters are
// added to those of the current run, which start at zero with every run as
// a real host's do. Name and VCPUs of by are ignored.
func (d *Driver) AddStats(name string, by hypervisor.DomainStats) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	dom, err := d.lookup("add-stats", name)
	if err != nil {
		return err
	}
	if dom.state == hypervisor.PowerShutoff {
		return fmt.Errorf("fake: add stats to %q (%s): %w", name, dom.state, hypervisor.ErrInvalidState)
	}
	s := &dom.stats
	s.CPUTime += by.CPUTime
	s.DiskReadBytes += by.DiskReadBytes
	s.DiskWriteBytes += by.DiskWriteBytes
	s.DiskReadOps += by.DiskReadOps
	s.DiskWriteOps += by.DiskWriteOps
	s.NetRxBytes += by.NetRxBytes
	s.NetTxBytes += by.NetTxBytes
	return nil
}
