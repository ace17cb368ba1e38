package loadbalancer

import (
	"encoding/binary"
	"net/netip"
)

// proxySignature opens every PROXY protocol v2 header.
var proxySignature = []byte("\r\n\r\n\x00\r\nQUIT\n")

// proxyHeader is the PROXY protocol v2 header that tells a target the
// client's address and the address it connected to.
func proxyHeader(src, dst netip.AddrPort) []byte {
	h := append([]byte{}, proxySignature...)
	h = append(h, 0x21) // version 2, command PROXY
	if src.Addr().Is4() && dst.Addr().Is4() {
		h = append(h, 0x11) // TCP over IPv4
		h = binary.BigEndian.AppendUint16(h, 12)
		s, d := src.Addr().As4(), dst.Addr().As4()
		h = append(h, s[:]...)
		h = append(h, d[:]...)
	} else {
		h = append(h, 0x21) // TCP over IPv6
		h = binary.BigEndian.AppendUint16(h, 36)
		s, d := src.Addr().As16(), dst.Addr().As16()
		h = append(h, s[:]...)
		h = append(h, d[:]...)
	}
	h = binary.BigEndian.AppendUint16(h, src.Port())
	return binary.BigEndian.AppendUint16(h, dst.Port())
}
