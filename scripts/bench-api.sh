#!/usr/bin/env bash
# Measures the EC2 API with the fake hypervisor and ends with one line:
#   describe1000_p50_ms=X run_api_p50_ms=Y
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -run '^$' -bench 'EC2' -benchtime 2x ./api | tee "$out"
metric() { awk -v m="$1" '{ for (i = 2; i <= NF; i++) if ($i == m) v = $(i-1) } END { print v }' "$out"; }
echo "describe1000_p50_ms=$(metric describe1000_p50_ms) run_api_p50_ms=$(metric run_api_p50_ms)"
