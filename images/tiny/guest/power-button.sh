#!/bin/sh
# acpid runs this for the ACPI power button (PWRF): it is how libvirt's
# shutdown and reboot reach the guest. acpid passes no PATH.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
echo "kumo-tiny: power button pressed, powering off" >/dev/console
exec /etc/shutdown.sh poweroff </dev/null >/dev/console 2>&1
