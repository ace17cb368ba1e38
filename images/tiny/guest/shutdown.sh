#!/bin/sh
# Stops the guest cleanly: /data must be unmounted so that what the
# instance wrote there survives into the next boot and into images made
# from it.
#
# busybox init runs it (no argument) on every reboot or poweroff before it
# kills everything; power-button.sh runs it with "poweroff" and it then
# powers off itself, sparing the two seconds busybox init sleeps on its
# way down, which is most of how long the control plane waits for a stop.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
echo "kumo-tiny: stopping"
sync
if grep -q ' /data ' /proc/mounts; then
	if ! umount /data 2>/dev/null; then
		# Something still has a file or its working folder there (the
		# console shell, a user-data script): stop everything but init
		# and this script, then try again.
		kill -TERM -1 2>/dev/null
		usleep 200000
		kill -KILL -1 2>/dev/null
		usleep 100000
		umount /data 2>/dev/null || mount -o remount,ro /data
	fi
fi
sync
echo "kumo-tiny: stopped"
if [ "$1" = poweroff ]; then
	poweroff -f
fi
