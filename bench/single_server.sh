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
[ -x "$bin" ] && [ -x build/bench/park_bench ] || { echo "build first: bash .ci/build" >&2; exit 1; }
source bench/lib.sh

work=$(mktemp -d)
park_pid=""
cleanup() {
  if [ -n "$park_pid" ] && kill -0 "$park_pid" 2>/dev/null; then kill -TERM "$park_pid"; wait "$park_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

start_single_park "$bin" "$work"

echo "single park server 127.0.0.1:$park_port, fsync on; $(nproc) cores; $runs runs"
run_bench_medians "$work" "$runs" --config "$work/config.xml" "$@"
