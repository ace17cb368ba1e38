#!/usr/bin/env bash
# Measures placement on simulated hosts and ends with one summary line:
#   placements_per_s_1000=X placements_per_s_10000=Y packing_ratio=Z
# (packing_ratio: hosts binpack used over the lower bound, on a random
# stream of launches). Before it: binpack beside spread on that stream,
# 100 launches through the API on 20 hosts, and kumod with 1 000 hosts and
# 50 000 instances. A failing benchmark fails the run, after the summary.
set -euo pipefail
cd "$(dirname "$0")/.."
out=$(mktemp)
trap 'rm -f "$out"' EXIT
status=0
go test -run '^$' -bench 'PlacementRate|Packing' -benchtime 2s ./scheduler | tee "$out" || status=1
go test -run '^$' -bench 'Launch100On20Hosts' -benchtime 5x -timeout 10m ./cmd/kumod | tee -a "$out" || status=1
go test -run '^$' -bench 'FleetOf1000Hosts' -benchtime 1x -timeout 20m ./cmd/kumod | tee -a "$out" || status=1

# metric NAME UNIT [FORMAT] prints what benchmark NAME reported in UNIT,
# or "?" if it reported nothing (it failed). Go appends -GOMAXPROCS to the
# name unless that is 1.
metric() {
  awk -v b="$1" -v m="$2" -v f="${3:-%s}" '$1 == b || index($1, b "-") == 1 { for (i = 2; i <= NF; i++) if ($i == m) v = $(i-1) }
    END { if (v == "") print "?"; else printf f "\n", v }' "$out"
}
pack() { metric "BenchmarkPacking/$1" "$2" "${3:-%d}"; }
launch() { metric BenchmarkLaunch100On20Hosts "$1" %.1f; }
fleet() { metric BenchmarkFleetOf1000Hosts "$1" %.1f; }
echo
echo "packing one random stream of t2 launches, lower bound $(pack binpack hosts_lower_bound) hosts:" \
  "binpack $(pack binpack hosts_used) hosts (ratio $(pack binpack packing_ratio %.3f))," \
  "spread $(pack spread hosts_used) hosts (ratio $(pack spread packing_ratio %.3f))"
echo "100 launches over the API on 20 hosts: answered in $(launch launch100_total_ms) ms, running in $(launch launch100_running_ms) ms;" \
  "per launch p50 $(launch launch_p50_ms) ms, p99 $(launch launch_p99_ms) ms"
if [[ $(fleet launch_s) == "?" ]]; then
  echo "1 000 hosts, 50 000 instances: FAILED, see above"
else
  echo "1 000 hosts, 50 000 instances: launched in $(fleet launch_s) s ($(fleet launch_ms/instance) ms each)," \
    "running $(fleet running_after_s) s later, listed over the API in $(fleet list_all_ms) ms"
fi
echo "placements_per_s_1000=$(metric BenchmarkPlacementRate/hosts=1000 placements/s %d)" \
  "placements_per_s_10000=$(metric BenchmarkPlacementRate/hosts=10000 placements/s %d)" \
  "packing_ratio=$(pack binpack packing_ratio %.3f)"
exit "$status"
