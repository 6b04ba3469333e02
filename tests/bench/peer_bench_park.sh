#!/usr/bin/env bash
# The side-by-side load generator against a real park group, every workload (a)-(g) at small
# sizes: it must finish cleanly (exit 0), print every figure, and find no acknowledged write
# lost across a kill -9 of the leader. Timings are printed, never asserted.
#
#   peer_bench_park.sh FOURINONE_BIN PEER_BENCH_BIN SOURCE_DIR
set -euo pipefail
bin=$1 peer_bench=$2
cd "$3"
source bench/lib.sh
source bench/peers/park.sh
work=$(mktemp -d)
trap 'park_stop "$work"; rm -rf "$work"' EXIT

park_start "$work" "$bin"
status=0
"$peer_bench" --system park --endpoints "$park_endpoints" --control "$work/park" --seconds 1 \
  --latency-ops 50 --watch-updates 50 --expiry-runs 1 --kills 1 >"$work/out" 2>&1 || status=$?
cat "$work/out"
[ "$status" = 0 ] || { echo "FAIL: peer_bench exited $status"; exit 1; }
for row in a_write_ops b_read_linearizable_ops b_read_stale_ops c_seq_write_p99_us d_watch_p99_us \
           e_expiry_median_ms f_lock_handoffs_per_s g_failover_median_ms g_acknowledged_writes; do
  grep -q "^R park $row [0-9]" "$work/out" || { echo "FAIL: no figure for $row"; exit 1; }
done
grep -q "^R park g_lost_writes 0$" "$work/out" || { echo "FAIL: acknowledged writes were lost"; exit 1; }

# Bad usage is refused with a message, not run.
if "$peer_bench" --system nosuch --endpoints 127.0.0.1:1 2>"$work/err"; then echo "FAIL: unknown system accepted"; exit 1; fi
grep -q "unknown system 'nosuch'" "$work/err" || { echo "FAIL: no message for an unknown system"; cat "$work/err"; exit 1; }
echo PASS
