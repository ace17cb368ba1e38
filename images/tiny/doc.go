// Package tiny builds kumo's default guest image, "kumo-tiny", from
// Debian packages: the cloud kernel (unpacked for PVH boot), an initramfs
// of static busybox with the boot scripts in guest/, and a small qcow2
// root disk.
//
// The guest contract, which the control plane relies on:
//   - the kernel command line is Cmdline followed by kumo.id=<instance>,
//     kumo.ip=<addr/prefix>, kumo.gw=<gateway> and kumo.mac=<mac>; other
//     kumo.* keys are ignored unless the guest knows them;
//   - the NIC with that MAC gets the address and the default route; the
//     hostname is the instance id;
//   - HTTP on port 80 answers "kumo-tiny <instance id>";
//   - the first virtio disk with an ext4 file system is mounted
//     read-write at /data; the image's root disk is one;
//   - the user data, from the instance metadata service at
//     169.254.169.254 (IMDSv1), else from the seed disk (a virtio disk
//     holding a tar archive, whose user-data file it is), runs at every
//     boot in the background if it starts with "#!", its output going to
//     the console and /var/log/user-data.log; the console says which
//     source it came from;
//   - the public key the metadata service gives becomes root's
//     authorized key;
//   - the ACPI power button unmounts /data and powers off; reboot and
//     poweroff typed in the guest do the same through busybox init;
//   - the serial console shows "kumo-tiny: ready <id> <ip> <uptime>"
//     once booted, and holds a root shell.
//
// It must not know about the state store, the API or libvirt: it only
// makes files.
package tiny
