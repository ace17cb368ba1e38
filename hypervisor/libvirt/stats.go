package libvirt

import (
	"context"
	"errors"
	"fmt"
	"time"

	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

var _ hypervisor.StatsReader = (*Driver)(nil)

// statsTypes are the groups DomainStats asks for. VCPU is there for the
// number of vCPUs; the per-vCPU times it also brings are not used.
const statsTypes = lv.DOMAIN_STATS_STATE | lv.DOMAIN_STATS_CPU_TOTAL | lv.DOMAIN_STATS_VCPU |
	lv.DOMAIN_STATS_BLOCK | lv.DOMAIN_STATS_INTERFACE

// DomainStats reads every active domain's counters with one
// virConnectGetAllDomainStats call. libvirt leaves out groups a driver
// cannot read rather than failing, so missing counters are zero: libvirt's
// test driver, for one, reports only the state.
func (d *Driver) DomainStats(ctx context.Context) ([]hypervisor.DomainStats, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// NOWAIT skips the groups of a domain that is busy with a long job (a
	// save, a snapshot) instead of waiting for it with every other domain.
	var records []lv.DomainStats
	err := withFallback(func(flags lv.ConnectGetAllDomainStatsFlags) error {
		var err error
		records, err = d.conn.GetAllDomainStats(nil, statsTypes, flags)
		return err
	}, lv.CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE|lv.CONNECT_GET_ALL_DOMAINS_STATS_NOWAIT,
		lv.CONNECT_GET_ALL_DOMAINS_STATS_ACTIVE)
	if err != nil {
		return nil, fmt.Errorf("libvirt: domain stats: %w", err)
	}
	out := make([]hypervisor.DomainStats, 0, len(records))
	var errs []error
	for i := range records {
		name, err := records[i].Domain.GetName()
		records[i].Domain.Free()
		if err != nil {
			errs = append(errs, fmt.Errorf("libvirt: domain stats: name: %w", err))
			continue
		}
		out = append(out, domainStats(name, &records[i]))
	}
	return out, errors.Join(errs...)
}

// domainStats sums a record's disks and NICs into the counters kumo keeps.
func domainStats(name string, r *lv.DomainStats) hypervisor.DomainStats {
	s := hypervisor.DomainStats{Name: name}
	if r.Cpu != nil && r.Cpu.TimeSet {
		s.CPUTime = time.Duration(r.Cpu.Time)
	}
	// The binding lists vCPUs up to the maximum and marks those libvirt
	// gave nothing for as offline: the others are the current ones.
	for _, v := range r.Vcpu {
		if !v.StateSet || v.State != lv.VCPU_OFFLINE {
			s.VCPUs++
		}
	}
	for _, b := range r.Block {
		s.DiskReadBytes += b.RdBytes
		s.DiskWriteBytes += b.WrBytes
		s.DiskReadOps += b.RdReqs
		s.DiskWriteOps += b.WrReqs
	}
	for _, n := range r.Net {
		s.NetRxBytes += n.RxBytes
		s.NetTxBytes += n.TxBytes
	}
	return s
}
