package instances

import (
	"fmt"
	"net/netip"
	"strings"

	"kumo/hypervisor"
	"kumo/store"
)

// domainMetadata marks the domains this control plane made, so reconcile
// never touches a domain it does not own: not another program's, not another
// kumo control plane's on the same host.
func (s *Service) domainMetadata() string { return "kumo-instance owner=" + s.owner }

// spec derives the domain of an instance from its record and image alone,
// so that reconcile can define it again after a crash and get the same VM.
func (s *Service) spec(in store.Instance, im store.Image, net hypervisor.Network) (hypervisor.Spec, error) {
	typ, ok := LookupType(in.Type)
	if !ok {
		return hypervisor.Spec{}, fmt.Errorf("instance %s has unknown type %q", in.ID, in.Type)
	}
	sp := hypervisor.Spec{
		Name: in.ID, VCPUs: typ.VCPUs, MemoryMiB: typ.MemoryMiB,
		NICs:       []hypervisor.NIC{{MAC: in.MAC, Network: in.Network}},
		ConsoleLog: s.disks.console(in.ID),
		Metadata:   s.domainMetadata(),
	}
	if im.Disk != "" {
		sp.Disks = append(sp.Disks, hypervisor.Disk{Path: s.disks.root(in.ID), Format: hypervisor.FormatQCOW2})
	}
	sp.Disks = append(sp.Disks, hypervisor.Disk{Path: s.disks.seed(in.ID), Format: hypervisor.FormatRaw, ReadOnly: true})
	if im.Kernel != "" {
		sp.Kernel = s.images.Blobs().Path(im.Kernel)
		if im.Initrd != "" {
			sp.Initrd = s.images.Blobs().Path(im.Initrd)
		}
		sp.Cmdline = strings.TrimSpace(im.Cmdline + " " + guestCmdline(in, net))
	}
	return sp, nil
}

// guestCmdline hands the guest its identity and address on the kernel
// command line: the control plane owns address allocation, and a static
// address boots faster and more reliably than DHCP.
func guestCmdline(in store.Instance, net hypervisor.Network) string {
	bits := 24
	if p, err := netip.ParsePrefix(net.CIDR); err == nil {
		bits = p.Bits()
	}
	return fmt.Sprintf("kumo.id=%s kumo.ip=%s/%d kumo.gw=%s kumo.mac=%s", in.ID, in.PrivateIP, bits, net.Gateway, in.MAC)
}
