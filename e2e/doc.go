// Package e2e holds kumo's end-to-end tests and launch benchmarks: kumod
// and the CLI as built binaries, real libvirt and QEMU guests of the default
// image, reached from inside the data-plane network namespace.
package e2e
