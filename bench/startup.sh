#!/usr/bin/env bash
# The start-up time of a park server with a big log (issue 19): starts one server (fsync on,
# snapshots far apart so the log is not compacted), writes MIB MiB (default 1024) of 64 KiB
# values through build/bench/startup_bench, kills it with SIGKILL (no clean shutdown), then
# RUNS times (default 3) starts it again and times how long until it serves a linearizable
# get, with the page cache warm and, when /proc/sys/vm/drop_caches is writable, cold. Prints
# every run, the server's own "recovered ... in N ms" line and the medians.
#
#   bash bench/startup.sh [RUNS] [MIB]
#   OTHER=/path/to/another/fourinone bash bench/startup.sh   # also that build, same log, runs alternating
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
mib="${2:-1024}"
bin=$(pwd)/build/fourinone
other=${OTHER:-}
[ -x "$bin" ] && [ -x build/bench/startup_bench ] || { echo "build first: bash .ci/build" >&2; exit 1; }
source bench/lib.sh

work=$(mktemp -d)
park_pid=""
cleanup() {
  if [ -n "$park_pid" ] && kill -0 "$park_pid" 2>/dev/null; then kill -KILL "$park_pid"; wait "$park_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(free_port)
sed -e "s|<SERVERS>[^<]*</SERVERS>|<SERVERS>127.0.0.1:$port</SERVERS>|" \
    -e "s|<DATADIR>[^<]*</DATADIR>|<DATADIR>$work/data</DATADIR>|" \
    -e "0,/<\/SERVERS>/s|</SERVERS>|</SERVERS><SNAPSHOTENTRIES>100000000</SNAPSHOTENTRIES>|" config.xml >"$work/config.xml"

kill_park() {
  kill -KILL "$park_pid" 2>/dev/null || true
  wait "$park_pid" 2>/dev/null || true
  park_pid=""
}

"$bin" park --config "$work/config.xml" >"$work/park.log" 2>&1 &
park_pid=$!
wait_for_leader "$bin" "$work/config.xml"
build/bench/startup_bench fill --config "$work/config.xml" --mib "$mib"
kill_park
echo "log: $(du -sh "$work/data" | cut -f1) in $work/data; $(nproc) cores; $runs runs"

# start_once BIN CACHE: one start-up of BIN, timed by startup_bench wait started alongside.
start_once() {
  local server=$1 cache=$2 took
  if [ "$cache" = cold ]; then
    sync
    echo 3 >/proc/sys/vm/drop_caches
  fi
  "$server" park --config "$work/config.xml" >"$work/park.log" 2>&1 &
  park_pid=$!
  took=$(build/bench/startup_bench wait --config "$work/config.xml" | awk '/^startup_ms:/ {print $2}')
  echo "$server $cache startup_ms: $took  ($(grep -o 'recovered .* in [0-9]* ms' "$work/park.log" | sed 's/ from [^ ]*//'))"
  echo "$server $cache $took" >>"$work/figures"
  kill_park
}

caches=warm
[ -w /proc/sys/vm/drop_caches ] && caches="warm cold"
for r in $(seq 1 "$runs"); do
  for cache in $caches; do
    for server in "$bin" $other; do start_once "$server" "$cache"; done
  done
done
echo "-- median of $runs runs"
for server in "$bin" $other; do
  for cache in $caches; do
    awk -v s="$server" -v k="$cache" '$1 == s && $2 == k { v[++n] = $3 }
      END {
        if (n == 0) exit
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
        printf "%s, %s page cache: start-up %.0f ms\n", s, k, v[int((n + 1) / 2)]
      }' "$work/figures"
  done
done
