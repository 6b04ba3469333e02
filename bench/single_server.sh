#!/usr/bin/env bash
# Starts one park server (fsync on, default settings) on a free loopback port in a scratch
# folder, runs build/bench/park_bench against it RUNS times (default 3), prints every run and
# the median of each figure, and stops the server.
#
#   bash bench/single_server.sh [RUNS] [park_bench options...]
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
shift || true
bin=build/fourinone
bench=build/bench/park_bench
[ -x "$bin" ] && [ -x "$bench" ] || { echo "build first: bash .ci/build" >&2; exit 1; }

work=$(mktemp -d)
park_pid=""
cleanup() {
  if [ -n "$park_pid" ] && kill -0 "$park_pid" 2>/dev/null; then kill -TERM "$park_pid"; wait "$park_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

# A port nobody answers on (a bash /dev/tcp connect that fails).
port=""
for _ in $(seq 1 50); do
  candidate=$((20000 + RANDOM % 40000))
  if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then port=$candidate; break; fi
done
[ -n "$port" ] || { echo "no free port found" >&2; exit 1; }

sed -e "s|<SERVERS>[^<]*</SERVERS>|<SERVERS>127.0.0.1:$port</SERVERS>|" \
    -e "s|<DATADIR>[^<]*</DATADIR>|<DATADIR>$work/data</DATADIR>|" config.xml >"$work/config.xml"
"$bin" park --config "$work/config.xml" >"$work/park.log" 2>&1 &
park_pid=$!
for _ in $(seq 1 100); do
  "$bin" ctl --config "$work/config.xml" --timeout 500 status >/dev/null 2>&1 && break
  kill -0 "$park_pid" 2>/dev/null || { cat "$work/park.log" >&2; exit 1; }
  sleep 0.1
done

echo "single park server 127.0.0.1:$port, fsync on; $(nproc) cores; $runs runs"
for r in $(seq 1 "$runs"); do
  echo "-- run $r"
  "$bench" --config "$work/config.xml" "$@" | tee "$work/run$r.txt"
done

# Rows are "NAME(34 columns) RATE ops/s p50 X us p99 Y us"; the median of each column.
echo "-- median of $runs runs"
cat "$work"/run*.txt | awk '
  /ops\/s/ {
    name = substr($0, 1, 34); sub(/ +$/, "", name)
    split(substr($0, 35), f, " ")
    if (!(name in seen)) { seen[name] = 1; order[++n] = name }
    k = ++count[name]; rate[name, k] = f[1]; p50[name, k] = f[4]; p99[name, k] = f[7]
  }
  function median(arr, name, c,   i, j, t, v) {
    for (i = 1; i <= c; i++) v[i] = arr[name, i]
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
    return v[int((c + 1) / 2)]
  }
  END {
    for (i = 1; i <= n; i++) {
      name = order[i]; c = count[name]
      printf "%-34s %12s ops/s   p50 %8s us   p99 %8s us\n", name, median(rate, name, c), median(p50, name, c), median(p99, name, c)
    }
  }'
