package libvirt

import (
	"context"
	"fmt"
	"io"
	"net"
	"time"

	lv "libvirt.org/go/libvirt"
	"libvirt.org/go/libvirtxml"

	"kumo/hypervisor"
)

var _ hypervisor.ChannelWriter = (*Driver)(nil)

// channelWriteTimeout bounds a write when the caller's context does not:
// a guest that stops reading must not hold the caller forever.
const channelWriteTimeout = time.Minute

// ChannelConnected reads the state libvirt keeps in the live XML from
// QEMU's VSERPORT_CHANGE events. QEMU sends at most one of those per port
// a second, so the answer may be up to a second old.
func (d *Driver) ChannelConnected(ctx context.Context, name, channel string) (bool, error) {
	var connected bool
	err := d.with(ctx, "channel", name, func(dom *lv.Domain) error {
		ch, live, err := findChannel(dom, name, channel)
		if err != nil {
			return err
		}
		connected = live && ch.Target.VirtIO.State == "connected"
		return nil
	})
	return connected, err
}

// WriteChannel connects to the socket QEMU listens on for the channel,
// sends data and half-closes, then waits for QEMU to close its end. QEMU
// closes only after reading everything and the end of file, that is once
// the data is in the guest's buffers. Closing the socket right after
// writing would let QEMU see the hangup while data is still unread and
// drop it. The socket is used directly rather than through
// virDomainOpenChannel because a libvirt stream can only be closed whole;
// that needs the caller on libvirtd's host, allowed into libvirt's
// channel folder (root), which kumod is.
//
// A guest that closed the port since libvirt last looked makes the write
// wait for it to open the port again, until ctx or channelWriteTimeout.
func (d *Driver) WriteChannel(ctx context.Context, name, channel string, data []byte) error {
	var sock string
	err := d.with(ctx, "write channel", name, func(dom *lv.Domain) error {
		ch, live, err := findChannel(dom, name, channel)
		switch {
		case err != nil:
			return err
		case !live:
			return fmt.Errorf("libvirt: write channel %s of %q: domain is not running: %w", channel, name, hypervisor.ErrInvalidState)
		case ch.Target.VirtIO.State != "connected":
			// Data would wait in the socket for a reader that may never
			// come, and be lost when the connection closes.
			return fmt.Errorf("libvirt: write channel %s of %q: the guest has not opened it", channel, name)
		case ch.Source == nil || ch.Source.UNIX == nil || ch.Source.UNIX.Path == "":
			return fmt.Errorf("libvirt: write channel %s of %q: no socket to write to", channel, name)
		}
		sock = ch.Source.UNIX.Path
		return nil
	})
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, channelWriteTimeout)
	defer cancel()
	if err := writeSocket(ctx, sock, data); err != nil {
		return fmt.Errorf("libvirt: write channel %s of %q: %w", channel, name, err)
	}
	return nil
}

func writeSocket(ctx context.Context, path string, data []byte) error {
	var dialer net.Dialer
	c, err := dialer.DialContext(ctx, "unix", path)
	if err != nil {
		return err
	}
	conn := c.(*net.UnixConn)
	defer conn.Close()
	// Only once ctx is done, so that ctx.Err says why I/O stopped.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if _, err := conn.Write(data); err != nil {
		return ctxErr(ctx, err)
	}
	if err := conn.CloseWrite(); err != nil {
		return ctxErr(ctx, err)
	}
	// Whatever the guest sends back is not for this writer.
	if _, err := io.Copy(io.Discard, conn); err != nil {
		return fmt.Errorf("the guest did not take the data: %w", ctxErr(ctx, err))
	}
	return nil
}

// ctxErr prefers the context's reason to the deadline error it caused.
func ctxErr(ctx context.Context, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("%w (%v)", cerr, err)
	}
	return err
}

// findChannel reads the domain's current XML, live while it runs, and
// returns its virtio channel named channel and whether the XML is live.
func findChannel(dom *lv.Domain, name, channel string) (libvirtxml.DomainChannel, bool, error) {
	desc, err := dom.GetXMLDesc(0)
	if err != nil {
		return libvirtxml.DomainChannel{}, false, mapError("channel", name, err)
	}
	var def libvirtxml.Domain
	if err := def.Unmarshal(desc); err != nil {
		return libvirtxml.DomainChannel{}, false, fmt.Errorf("libvirt: channel %s of %q: parse XML: %w", channel, name, err)
	}
	// Only a running domain's XML carries its id.
	live := def.ID != nil && *def.ID >= 0
	if def.Devices != nil {
		for _, ch := range def.Devices.Channels {
			if ch.Target != nil && ch.Target.VirtIO != nil && ch.Target.VirtIO.Name == channel {
				return ch, live, nil
			}
		}
	}
	return libvirtxml.DomainChannel{}, live, fmt.Errorf("libvirt: domain %q has no channel %q", name, channel)
}
