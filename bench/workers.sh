#!/usr/bin/env bash
# The contractor/worker figures (issue 4): starts one park server (for discovery only; tasks
# go straight from contractor to worker) and WORKERS workers of build/bench/worker_bench
# (default 2, capacity CAPACITY, default 4) on loopback, runs `worker_bench run` RUNS times
# (default 3), prints every run, and stops everything.
#
#   bash bench/workers.sh [RUNS] [worker_bench run options...]
#   WORKERS=2 CAPACITY=4 bash bench/workers.sh 3 --tiny 50000
set -euo pipefail
cd "$(dirname "$0")/.."
runs="${1:-3}"
shift || true
bin=build/fourinone
[ -x "$bin" ] && [ -x build/bench/worker_bench ] || { echo "build first: bash .ci/build" >&2; exit 1; }
source bench/lib.sh

work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

park_pid=""
start_single_park "$bin" "$work"
pids+=("$park_pid")
for i in $(seq 1 "${WORKERS:-2}"); do
  build/bench/worker_bench worker --config "$work/config.xml" --capacity "${CAPACITY:-4}" >"$work/worker$i.log" 2>&1 &
  pids+=("$!")
done
sleep 1  # let the workers register

echo "park server 127.0.0.1:$park_port; ${WORKERS:-2} workers of capacity ${CAPACITY:-4}; $(nproc) cores; $runs runs"
for r in $(seq 1 "$runs"); do
  echo "-- run $r"
  build/bench/worker_bench run --config "$work/config.xml" "$@"
done
