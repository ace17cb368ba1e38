package instances

import (
	"crypto/rand"
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

// identityChannel is the virtio port through which a guest restored from a
// template learns its identity.
const identityChannel = "org.kumo.identity"

// spec derives the domain of an instance from its record and image alone,
// so that reconcile can define it again after a crash and get the same VM.
func (s *Service) spec(in store.Instance, im store.Image, net hypervisor.Network) (hypervisor.Spec, error) {
	typ, ok := LookupType(in.Type)
	if !ok {
		return hypervisor.Spec{}, fmt.Errorf("instance %s has unknown type %q", in.ID, in.Type)
	}
	return s.domainSpec(in.ID, typ, im, s.disks.files(in.ID), hypervisor.NIC{MAC: in.MAC, Network: in.Network},
		guestCmdline(in, net)), nil
}

// domainSpec is the one place a domain's shape is decided, for instances
// and the templates they are restored from alike: a restore needs both to
// have the same devices in the same order.
func (s *Service) domainSpec(name string, typ Type, im store.Image, f files, nic hypervisor.NIC, cmdline string) hypervisor.Spec {
	sp := hypervisor.Spec{
		Name: name, VCPUs: typ.VCPUs, MemoryMiB: typ.MemoryMiB,
		NICs:       []hypervisor.NIC{nic},
		ConsoleLog: f.console,
		Metadata:   s.domainMetadata(),
	}
	if im.Disk != "" {
		sp.Disks = append(sp.Disks, hypervisor.Disk{Path: f.root, Format: hypervisor.FormatQCOW2})
	}
	sp.Disks = append(sp.Disks, hypervisor.Disk{Path: f.seed, Format: hypervisor.FormatRaw, ReadOnly: true})
	if im.Kernel != "" {
		sp.Kernel = s.images.Blobs().Path(im.Kernel)
		if im.Initrd != "" {
			sp.Initrd = s.images.Blobs().Path(im.Initrd)
		}
		sp.Cmdline = strings.TrimSpace(im.Cmdline + " " + cmdline)
		sp.Channels = []string{identityChannel}
	}
	return sp
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

// identityLine is what a restored guest reads on its identity port: its
// command-line keys, plus the time (its clock stood still while it was
// saved) and fresh entropy (every copy starts with the same pool).
func (s *Service) identityLine(in store.Instance, net hypervisor.Network) []byte {
	seed := make([]byte, 32)
	rand.Read(seed)
	return fmt.Appendf(nil, "%s kumo.time=%d kumo.seed=%x\n", guestCmdline(in, net), s.clock.Now().Unix(), seed)
}
