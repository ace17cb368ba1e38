#!/usr/bin/env bash
# Prepares this machine to be kumo's local host. Idempotent: every step
# checks before it acts, so a second run changes nothing.
#
#   - installs the Debian packages kumo needs, when missing
#   - makes /dev/kvm usable by QEMU's user when the CPU supports KVM
#   - creates the network namespace "kumo", where the data plane lives:
#     libvirtd runs inside it, so every bridge, tap and address it creates
#     stays out of the root namespace
#   - defines the libvirt network "kumo" for instances
set -euo pipefail
# No `cmd | grep -q` below: grep -q exits at the first match, the writer
# then dies of SIGPIPE, and pipefail turns a match into a failure.

NS=${KUMO_NETNS:-kumo}
NET=${KUMO_NETWORK:-kumo}
BRIDGE=${KUMO_BRIDGE:-kumobr0}
GATEWAY=${KUMO_GATEWAY:-10.77.0.1}
NETMASK=${KUMO_NETMASK:-255.255.255.0}

say() { printf 'setup: %s\n' "$*"; }

[ "$(id -u)" = 0 ] || { echo "setup: run as root (libvirt, network namespaces)" >&2; exit 1; }

packages=(libvirt-daemon-system libvirt-daemon-driver-qemu libvirt-clients libvirt-dev
  qemu-system-x86 qemu-utils dnsmasq-base busybox-static e2fsprogs iproute2 iptables pkg-config gcc
  awscli python3-boto3 chromium)
missing=()
for p in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$p" 2>/dev/null || true)" = "install ok installed" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

if ! command -v go >/dev/null && [ ! -x /usr/local/go/bin/go ]; then
  echo "setup: Go is not installed (expected at /usr/local/go)" >&2
  exit 1
fi

# Without udev, /dev/kvm stays 0600 root:root: libvirtd then finds KVM
# "unavailable" for QEMU's user and re-probes QEMU on every call, which makes
# each domain start take tens of seconds. Debian's udev rule sets 0660 root:kvm.
if [ -e /dev/kvm ]; then
  getent group kvm >/dev/null || groupadd -r kvm
  if [ "$(stat -c '%G %a' /dev/kvm)" != "kvm 660" ]; then
    say "making /dev/kvm 0660 root:kvm"
    chgrp kvm /dev/kvm && chmod 0660 /dev/kvm
  fi
fi

if [ ! -e "/run/netns/$NS" ]; then
  say "creating network namespace $NS"
  ip netns add "$NS"
fi
ip -n "$NS" link set lo up

# in_ns PID: true when the process lives in namespace $NS.
in_ns() { [ "$(ip netns identify "$1" 2>/dev/null)" = "$NS" ]; }

# A libvirtd outside the namespace (started by systemd's socket activation
# on a stock install) would put instance networks in the root namespace.
if command -v systemctl >/dev/null && [ -d /run/systemd/system ]; then
  for unit in libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket; do
    if systemctl is-active -q "$unit"; then
      say "stopping $unit (kumo runs libvirtd inside namespace $NS)"
      systemctl stop "$unit"
    fi
  done
fi
# libvirtd serves at most 5 calls at once per client by default; kumod
# launches many instances at once over one connection.
conf=/etc/kumo/libvirtd.conf
want=$(cat /etc/libvirt/libvirtd.conf; printf '\n# kumo\nmax_workers = 64\nmax_client_requests = 64\n')
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
  say "writing $conf"
  mkdir -p /etc/kumo
  printf '%s\n' "$want" >"$conf.tmp" && mv "$conf.tmp" "$conf"
fi

# our_daemon PID: true when the process runs in $NS with kumo's config.
our_daemon() {
  in_ns "$1" || return 1
  [ "$2" != libvirtd ] || [[ "$(tr '\0' ' ' <"/proc/$1/cmdline")" == *"-f $conf"* ]]
}

# dev_cluster_daemon PID: true for a daemon of a simulated host of `kumo dev
# cluster` (package devcluster). Each host runs its own pair outside $NS on
# purpose, in namespace kumo-hN with a private /run/libvirt: they neither
# serve qemu:///system nor touch the root namespace, so they stay. The
# config path (under a dev-cluster directory) also covers the package's
# tests, whose hosts live in other namespaces.
dev_cluster_daemon() {
  [[ "$(ip netns identify "$1" 2>/dev/null)" == kumo-h* ]] ||
    [[ "$(tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null)" == *"-f "*dev-cluster*" "* ]]
}

# main_daemon_running NAME: true when kumo's own NAME runs in $NS; a bare
# `pgrep -x` would take a dev cluster's daemon for it.
main_daemon_running() {
  local pid
  for pid in $(pgrep -x "$1" || true); do
    if our_daemon "$pid" "$1"; then return 0; fi
  done
  return 1
}

for daemon in virtlogd libvirtd; do
  for pid in $(pgrep -x "$daemon" || true); do
    if ! our_daemon "$pid" "$daemon" && ! dev_cluster_daemon "$pid"; then
      say "stopping $daemon ($pid): outside namespace $NS or without $conf"
      kill "$pid"
      for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    fi
  done
  if ! main_daemon_running "$daemon"; then
    say "starting $daemon in namespace $NS"
    rm -f "/run/libvirt/${daemon}.pid" "/run/${daemon}.pid"
    if [ "$daemon" = libvirtd ]; then
      ip netns exec "$NS" libvirtd -d -f "$conf"
    else
      ip netns exec "$NS" virtlogd -d
    fi
  fi
done

for _ in $(seq 100); do
  virsh -q -c qemu:///system version >/dev/null 2>&1 && break
  sleep 0.2
done
virsh -q -c qemu:///system version >/dev/null

if ! virsh -q -c qemu:///system net-info "$NET" >/dev/null 2>&1; then
  say "defining libvirt network $NET ($GATEWAY/$NETMASK on $BRIDGE)"
  xml=$(mktemp)
  cat >"$xml" <<XML
<network>
  <name>$NET</name>
  <bridge name='$BRIDGE' stp='off' delay='0'/>
  <ip address='$GATEWAY' netmask='$NETMASK'/>
</network>
XML
  virsh -q -c qemu:///system net-define "$xml" >/dev/null
  rm -f "$xml"
  virsh -q -c qemu:///system net-autostart "$NET" >/dev/null
fi
if [[ ! "$(virsh -q -c qemu:///system net-info "$NET")" =~ Active:[[:space:]]+yes ]]; then
  say "starting libvirt network $NET"
  virsh -q -c qemu:///system net-start "$NET" >/dev/null
fi
say "host ready: libvirtd in namespace $NS, network $NET"
