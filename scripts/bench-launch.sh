#!/usr/bin/env bash
# Runs the launch and list benchmarks and ends with one summary line:
#   launch_p50_s=X launch10_all_s=Y list1000_p50_ms=Z
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
go test -p 1 -run '^$' -bench 'List1000' -benchtime 4x ./api | tee -a "$out"
go test -p 1 -run '^$' -bench 'Launch' -benchtime 1x -timeout 30m ./e2e | tee -a "$out"
metric() { awk -v m="$1" '{ for (i = 2; i <= NF; i++) if ($i == m) v = $(i-1) } END { print v }' "$out"; }
echo "launch_p50_s=$(metric launch_p50_s) launch10_all_s=$(metric launch10_all_s) list1000_p50_ms=$(metric list1000_p50_ms)"
