#!/usr/bin/env bash
# Measures kumo's load balancer against HAProxy on loopback and ends with
# one summary line:
#   rps_ratio_vs_haproxy=X p99_ratio_vs_haproxy=Y close_rps_ratio_vs_haproxy=Z
set -euo pipefail
cd "$(dirname "$0")/.."
missing=()
command -v haproxy >/dev/null || missing+=(haproxy)
command -v wrk >/dev/null || missing+=(wrk)
if ((${#missing[@]})); then
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi
go build -o bin/benchlb ./loadbalancer/internal/benchlb
exec bin/benchlb
