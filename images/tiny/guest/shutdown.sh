#!/bin/sh
# Run by busybox init before it kills everything and powers off or
# reboots. /data must be unmounted cleanly so that what the instance
# wrote there survives into the next boot and into images made from it.
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
