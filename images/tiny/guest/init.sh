#!/bin/sh
# kumo-tiny boot script, run once per boot by busybox init (sysinit).
#
# Order matters for boot time under TCG, where every step is slow: the
# network and the HTTP server come first because that is what the control
# plane waits for; disks, user data and the rest follow. Nothing here
# sleeps, except a template waiting for its identity.
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
id= ip= gw= mac= wait= time= seed=
parse() {
	set -f
	for kv in $1; do
		case "$kv" in
		kumo.id=*) id=${kv#*=} ;;
		kumo.ip=*) ip=${kv#*=} ;;
		kumo.gw=*) gw=${kv#*=} ;;
		kumo.mac=*) mac=${kv#*=} ;;
		kumo.wait=*) wait=${kv#*=} ;;
		kumo.time=*) time=${kv#*=} ;;
		kumo.seed=*) seed=${kv#*=} ;;
		esac
	done
	set +f
}
parse "$(cat /proc/cmdline)"

# No modprobe: the build wrote the modules out in an order that loads
# each after what it needs. /etc/modules is what HTTP needs; the rest
# waits until HTTP is up.
load_modules() {
	while read -r m; do
		insmod "/lib/modules/$m.ko" || say "insmod $m failed"
	done <"$1"
}

# Binding a virtio PCI device costs about 0.12 s under TCG on the pc
# machine, where the kernel runs the ACPI _PRT method, a loop over every
# slot, to route its interrupt. So virtio-pci waits to be told
# (drivers_autoprobe) and gets the NIC and the console port before HTTP,
# the disks after it, and the rest (the RNG, nothing uses it) last.
bind_virtio() {
	local d v pid kind
	for d in /sys/bus/pci/devices/*; do
		[ -e "$d/driver" ] && continue
		read -r v <"$d/vendor"
		[ "$v" = 0x1af4 ] || continue
		read -r pid <"$d/device"
		# Transitional and modern PCI IDs of each virtio device type.
		case "$pid" in
		0x1000 | 0x1041) kind=net ;;
		0x1001 | 0x1042) kind=block ;;
		0x1003 | 0x1043) kind=console ;;
		*) kind=other ;;
		esac
		case " $* " in
		*" $kind "* | *" all "*)
			echo "${d##*/}" >/sys/bus/pci/drivers/virtio-pci/bind ||
				say "cannot bind virtio $kind ${d##*/}"
			;;
		esac
	done
}
echo 0 >/sys/bus/pci/drivers_autoprobe
load_modules /etc/modules
bind_virtio net console

# A guest booted once and saved in memory by the control plane learns who
# it is when a copy is restored: it waits here until a line of the same
# kumo.* keys arrives on the virtio port org.kumo.identity.
if [ "$wait" = identity ]; then
	# The port's sysfs entry can appear a moment after the device binds.
	port= tries=0
	while [ -z "$port" ] && [ $tries -lt 100 ]; do
		for p in /sys/class/virtio-ports/*; do
			[ "$(cat "$p/name" 2>/dev/null)" = org.kumo.identity ] && port=/dev/${p##*/}
		done
		[ -n "$port" ] || usleep 20000
		tries=$((tries + 1))
	done
	line=
	if [ -n "$port" ]; then
		say "waiting for identity"
		# Holding the port open is how the host sees that the guest
		# listens. Reads return at once while nothing on the host side is
		# attached, so the loop naps between them.
		exec 3<"$port"
		while ! read -r line <&3 || [ -z "$line" ]; do usleep 20000; done
		exec 3<&-
	else
		say "no identity port"
	fi
	parse "$line"
	# The clock stood still while the guest was saved; a line queued
	# before a reboot may be older than the clock read from the RTC.
	if [ -n "$time" ] && [ "$time" -gt "$(date +%s)" ]; then
		date -s "@$time" >/dev/null
	fi
	# Every copy starts with the same entropy pool.
	[ -n "$seed" ] && echo "$seed" >/dev/urandom
	# Disk contents changed under the guest: forget what the template read.
	for d in /dev/vd*; do blockdev --flushbufs "$d" 2>/dev/null; done
fi

# The NIC is picked by the MAC the control plane gave it, so a second
# NIC or a different probe order cannot move the address.
dev=eth0
if [ -n "$mac" ]; then
	want=$mac
	case "$want" in *[A-F]*) want=$(echo "$want" | tr A-F a-f) ;; esac
	# read, not $(cat): every process costs milliseconds under TCG.
	for d in /sys/class/net/*; do
		a=
		read -r a <"$d/address" 2>/dev/null
		[ "$a" = "$want" ] && dev=${d##*/}
	done
fi
ip link set lo up
# A restored copy's NIC still has the saved guest's address.
[ -n "$mac" ] && ip link set "$dev" address "$mac"
ip link set "$dev" up
if [ -n "$ip" ]; then
	ip addr add "$ip" dev "$dev" || say "cannot set address $ip on $dev"
	# Tell the bridge and neighbours at once where the address lives now.
	arping -q -U -c 1 -I "$dev" "${ip%/*}" 2>/dev/null &
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

load_modules /etc/modules.late
bind_virtio block
# acpid opens the input devices it finds at start, so it comes after the
# button and evdev modules.
acpid -l /var/log/acpid.log

# Disks: the seed disk is the one with a tar header ("ustar" at offset
# 257); the root disk is the first other one that mounts.
seeddisk= root=
for d in /dev/vd*; do
	[ -b "$d" ] || continue
	if [ "$(dd if="$d" bs=1 skip=257 count=5 2>/dev/null)" = ustar ]; then
		[ -n "$seeddisk" ] || seeddisk=$d
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

if [ -n "$seeddisk" ]; then
	mkdir -p /run/seed
	tar -x -f "$seeddisk" -C /run/seed || say "cannot read seed disk $seeddisk"
fi

# Instance data comes from the instance metadata service, as cloud-init
# reads it on EC2; the seed disk stands in on a host that has none. It is
# fetched in the background: boot does not wait for it.
# (busybox's own wget -T crashes: timeout bounds it instead.)
metadata() {
	timeout 5 wget -q -O "$2" "http://169.254.169.254/latest/$1" 2>/run/metadata.err && return 0
	grep -q ' 404 ' /run/metadata.err || say "metadata $1: $(cat /run/metadata.err)"
	rm -f "$2"
	return 1
}
instance_data() {
	if metadata meta-data/public-keys/0/openssh-key /run/openssh-key; then
		mkdir -p /root/.ssh
		chmod 700 /root/.ssh
		cp /run/openssh-key /root/.ssh/authorized_keys
		chmod 600 /root/.ssh/authorized_keys
		say "public key from metadata"
	fi
	from=metadata
	if ! metadata user-data /run/user-data; then
		from="seed disk"
		[ -s /run/seed/user-data ] && cp /run/seed/user-data /run/user-data
	fi
	if [ -s /run/user-data ] && [ "$(head -c 2 /run/user-data)" = "#!" ]; then
		chmod 700 /run/user-data
		say "running user-data from $from"
		(cd / && /run/user-data </dev/null 2>&1 | tee -a /var/log/user-data.log >/dev/console) &
	fi
}
instance_data &

say "ready $id ${ip%/*} $(uptime_s)"

bind_virtio all
# Devices plugged in from now on bind as usual.
echo 1 >/sys/bus/pci/drivers_autoprobe
