package libvirt

import (
	"context"
	"fmt"
	"net/netip"

	lv "libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"kumo/hypervisor"
)

func (d *Driver) Network(ctx context.Context, name string) (hypervisor.Network, error) {
	if err := ctx.Err(); err != nil {
		return hypervisor.Network{}, err
	}
	n, err := d.conn.LookupNetworkByName(name)
	if err != nil {
		if code(err) == lv.ERR_NO_NETWORK {
			// hypervisor has no network sentinel; ErrNotFound lets callers
			// use one errors.Is for every missing object.
			return hypervisor.Network{}, fmt.Errorf("libvirt: network %q: %w: %w", name, hypervisor.ErrNotFound, err)
		}
		return hypervisor.Network{}, fmt.Errorf("libvirt: network %q: %w", name, err)
	}
	defer n.Free()
	desc, err := n.GetXMLDesc(0)
	if err != nil {
		return hypervisor.Network{}, fmt.Errorf("libvirt: network %q: %w", name, err)
	}
	return parseNetwork(desc)
}

// parseNetwork reads the first IPv4 address of a network definition: the
// host's address on the bridge, which is the guests' gateway. A network
// without one (bridged to the LAN) has neither CIDR nor gateway.
func parseNetwork(desc string) (hypervisor.Network, error) {
	var def libvirtxml.Network
	if err := def.Unmarshal(desc); err != nil {
		return hypervisor.Network{}, fmt.Errorf("libvirt: parse network XML: %w", err)
	}
	out := hypervisor.Network{Name: def.Name}
	if def.Bridge != nil {
		out.Bridge = def.Bridge.Name
	}
	for _, ip := range def.IPs {
		if ip.Family != "" && ip.Family != "ipv4" {
			continue
		}
		addr, err := netip.ParseAddr(ip.Address)
		if err != nil {
			return out, fmt.Errorf("libvirt: network %q: address %q: %w", def.Name, ip.Address, err)
		}
		bits := int(ip.Prefix)
		switch {
		case ip.Netmask != "":
			if bits, err = maskBits(ip.Netmask); err != nil {
				return out, fmt.Errorf("libvirt: network %q: %w", def.Name, err)
			}
		case ip.Prefix == 0:
			return out, fmt.Errorf("libvirt: network %q: address %s has neither netmask nor prefix", def.Name, addr)
		}
		prefix, err := addr.Prefix(bits)
		if err != nil {
			return out, fmt.Errorf("libvirt: network %q: prefix /%d: %w", def.Name, bits, err)
		}
		out.CIDR, out.Gateway = prefix.String(), addr.String()
		return out, nil
	}
	return out, nil
}

func maskBits(mask string) (int, error) {
	m, err := netip.ParseAddr(mask)
	if err != nil || !m.Is4() {
		return 0, fmt.Errorf("netmask %q is not an IPv4 address", mask)
	}
	b := m.As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	bits := 0
	for v&(1<<31) != 0 {
		bits++
		v <<= 1
	}
	if v != 0 {
		return 0, fmt.Errorf("netmask %q is not contiguous", mask)
	}
	return bits, nil
}
