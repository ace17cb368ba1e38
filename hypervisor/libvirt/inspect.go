package libvirt

import (
	"fmt"

	lv "libvirt.org/go/libvirt"

	"kumo/hypervisor"
)

func describe(dom *lv.Domain) (hypervisor.Domain, error) {
	var out hypervisor.Domain
	var err error
	if out.Name, err = dom.GetName(); err != nil {
		return out, err
	}
	if out.UUID, err = dom.GetUUIDString(); err != nil {
		return out, err
	}
	if out.State, err = state(dom); err != nil {
		return out, err
	}
	md, err := dom.GetMetadata(lv.DOMAIN_METADATA_ELEMENT, MetadataNamespace, lv.DOMAIN_AFFECT_CURRENT)
	switch {
	case code(err) == lv.ERR_NO_DOMAIN_METADATA:
		// Not kumo's domain, or defined without metadata.
	case err != nil:
		return out, err
	default:
		if out.Metadata, err = unmarshalMetadata(md); err != nil {
			return out, fmt.Errorf("metadata of %q: %w", out.Name, err)
		}
	}
	return out, nil
}

func state(dom *lv.Domain) (hypervisor.PowerState, error) {
	st, _, err := dom.GetState()
	if err != nil {
		return hypervisor.PowerUnknown, err
	}
	return powerState(st), nil
}

func powerState(st lv.DomainState) hypervisor.PowerState {
	switch st {
	case lv.DOMAIN_RUNNING, lv.DOMAIN_BLOCKED:
		// BLOCKED is a running guest waiting on I/O.
		return hypervisor.PowerRunning
	case lv.DOMAIN_PAUSED, lv.DOMAIN_PMSUSPENDED:
		return hypervisor.PowerPaused
	case lv.DOMAIN_SHUTDOWN:
		return hypervisor.PowerShuttingDown
	case lv.DOMAIN_SHUTOFF:
		return hypervisor.PowerShutoff
	case lv.DOMAIN_CRASHED:
		return hypervisor.PowerCrashed
	}
	return hypervisor.PowerUnknown
}
