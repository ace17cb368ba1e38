// Package tiny builds kumo's default guest image, "kumo-tiny", from
// Debian packages: the cloud kernel, an initramfs of static busybox with
// a boot script, and a small qcow2 root disk.
//
// The guest takes its identity and address from kumo.* keys on the
// kernel command line, its user data from a tar "seed" disk, answers HTTP
// on port 80 and powers off cleanly on an ACPI power-button press.
//
// It must not know about the state store, the API or libvirt: it only
// makes files.
package tiny
