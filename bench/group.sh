#!/usr/bin/env bash
# Starts a three-server park group (fsync on, default settings) on free loopback ports in a
# scratch folder, runs build/bench/park_bench against it RUNS times (default 3) and prints the
# medians, then measures failover with build/bench/failover_bench (KILLS kill -9 of the
# leader under write load, default 10), and stops everything.
#
#   bash bench/group.sh [RUNS] [KILLS]
#
# PARK_EXTRA adds flags to every `fourinone park` (e.g. PARK_EXTRA=--no-sync shows what the
# fdatasyncs cost; such figures are not the product's).
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
kills="${2:-10}"
bin=$(pwd)/build/fourinone
[ -x "$bin" ] && [ -x build/bench/park_bench ] && [ -x build/bench/failover_bench ] || {
  echo "build first: bash .ci/build" >&2
  exit 1
}
source bench/lib.sh

work=$(mktemp -d)
declare -A member_pid=()
cleanup() {
  # Members restarted by failover_bench are not our children: find them by their config.
  pkill -TERM -f "park --config $work/config.xml" 2>/dev/null || true
  sleep 1
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

servers=""
for _ in 1 2 3; do servers+="${servers:+,}127.0.0.1:$(free_port)"; done
sed -e "s|<SERVERS>[^<]*</SERVERS>|<SERVERS>$servers</SERVERS>|" \
    -e "s|<DATADIR>[^<]*</DATADIR>|<DATADIR>$work/data</DATADIR>|" config.xml >"$work/config.xml"

# Starts one member in the background and prints its pid (also used by failover_bench).
cat >"$work/start_member.sh" <<SCRIPT
#!/usr/bin/env bash
"$bin" park --config "$work/config.xml" --server "\$1" ${PARK_EXTRA:-} >>"$work/\$1.log" 2>&1 &
echo \$!
SCRIPT
chmod +x "$work/start_member.sh"
for s in ${servers//,/ }; do member_pid[$s]=$("$work/start_member.sh" "$s"); done
wait_for_leader "$bin" "$work/config.xml"

echo "park group of 3 ($servers), fsync on; $(nproc) cores; $runs runs"
run_bench_medians "$work" "$runs" --config "$work/config.xml"

echo "-- failover"
pids=""
for s in "${!member_pid[@]}"; do pids+="${pids:+,}$s=${member_pid[$s]}"; done
build/bench/failover_bench --config "$work/config.xml" --kills "$kills" --pids "$pids" \
  --restart "$work/start_member.sh %s"
