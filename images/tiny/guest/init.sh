#!/bin/sh
# kumo-tiny boot script, run once per boot by busybox init (sysinit).
#
# Order matters for boot time under TCG, where every step is slow: the
# network and the HTTP server come first because that is what the control
# plane waits for; disks, user data and the rest follow. Nothing here
# sleeps or polls.
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
export HOME=/root
umask 022

mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mkdir -p /dev/pts
mount -t devpts devpts /dev/pts

say() { echo "kumo-tiny: $*"; }
uptime_s() { read -r up _ </proc/uptime; echo "${up}s"; }

# The control plane passes the instance's identity and address as
# kumo.* keys; keys this script does not know are ignored so that the
# control plane can add more without breaking older images.
id= ip= gw= mac=
set -f
for kv in $(cat /proc/cmdline); do
	case "$kv" in
	kumo.id=*) id=${kv#*=} ;;
	kumo.ip=*) ip=${kv#*=} ;;
	kumo.gw=*) gw=${kv#*=} ;;
	kumo.mac=*) mac=${kv#*=} ;;
	esac
done
set +f

while read -r m; do
	insmod "/lib/modules/$m.ko" || say "insmod $m failed"
done </etc/modules

# The NIC is picked by the MAC the control plane gave it, so a second
# NIC or a different probe order cannot move the address.
dev=eth0
if [ -n "$mac" ]; then
	want=$(echo "$mac" | tr A-F a-f)
	for d in /sys/class/net/*; do
		[ "$(cat "$d/address" 2>/dev/null)" = "$want" ] && dev=${d##*/}
	done
fi
ip link set lo up
ip link set "$dev" up
if [ -n "$ip" ]; then
	ip addr add "$ip" dev "$dev" || say "cannot set address $ip on $dev"
fi
if [ -n "$gw" ]; then
	ip route add default via "$gw" dev "$dev" || say "cannot set gateway $gw"
fi

[ -n "$id" ] || id=kumo-tiny
hostname "$id"
echo "$id" >/etc/hostname
{
	echo "127.0.0.1 localhost"
	[ -n "$ip" ] && echo "${ip%/*} $id"
} >/etc/hosts

echo "kumo-tiny $id" >/www/index.html
httpd -p 80 -h /www
say "http up $(uptime_s)"

# acpid opens the input devices it finds at start, so it comes after the
# button and evdev modules.
acpid -l /var/log/acpid.log

# Disks: the seed disk is the one with a tar header ("ustar" at offset
# 257); the root disk is the first other one that mounts.
seed= root=
for d in /dev/vd*; do
	[ -b "$d" ] || continue
	if [ "$(dd if="$d" bs=1 skip=257 count=5 2>/dev/null)" = ustar ]; then
		[ -n "$seed" ] || seed=$d
		continue
	fi
	# Checking the ext2/3/4 magic first keeps the kernel from logging an
	# error for every disk that holds something else.
	[ -z "$root" ] || continue
	[ "$(dd if="$d" bs=1 skip=1080 count=2 2>/dev/null | od -An -tx1 | tr -d ' \n')" = 53ef ] || continue
	if mount -t ext4 -o rw,noatime "$d" /data; then
		root=$d
	fi
done
if [ -n "$root" ]; then
	say "root disk $root mounted at /data"
else
	say "no root disk, /data is in memory"
fi

if [ -n "$seed" ]; then
	mkdir -p /run/seed
	tar -x -f "$seed" -C /run/seed || say "cannot read seed disk $seed"
fi
ud=/run/seed/user-data
if [ -s "$ud" ] && [ "$(head -c 2 "$ud")" = "#!" ]; then
	cp "$ud" /run/user-data
	chmod 700 /run/user-data
	say "running user-data"
	(cd / && /run/user-data </dev/null 2>&1 | tee -a /var/log/user-data.log >/dev/console) &
fi

say "ready $id ${ip%/*} $(uptime_s)"
