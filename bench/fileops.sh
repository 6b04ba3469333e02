#!/usr/bin/env bash
# fttp throughput on loopback against a plain baseline, in one run:
#
#   bash bench/fileops.sh [--rounds R] [--mib N] [--connections C] [--no-results]
#
# 1. builds build/bench/fileops_bench and the fourinone binary (FILEOPS_BENCH_BIN=PATH and
#    FOURINONE_BIN=PATH skip the build);
# 2. starts one park server and two fttp servers (`fourinone fttp`) on free 127.0.0.1 ports,
#    both exposing the root "bench" (one folder in a temporary directory on the disk that
#    holds /tmp);
# 3. runs fileops_bench R times (default 3): an N MiB file (default 1024) read through fttp
#    with 1 and with C connections (default 4), written (two-phase, fsync) with 1 and C, copied
#    server to server; and the baselines: the same bytes over one raw TCP connection each way
#    (read(2)/write(2) of 4 MiB, the writer fsyncs) and a local cp with fsync;
# 4. prints the medians with the issue's targets (single-stream fttp >= 80% of raw TCP;
#    parallel blocks no slower than one stream) and writes them, the machine and each round's
#    output into the section "fileops" of bench/RESULTS.md (--no-results: print only).
set -euo pipefail
cd "$(dirname "$0")/.."
command_line="bash bench/fileops.sh $*"
rounds=3
mib=1024
connections=4
write_results=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --mib) mib=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --no-results) write_results=""; shift ;;
    *) echo "unknown option $1 (see the top of bench/fileops.sh)" >&2; exit 2 ;;
  esac
done
started=$(date +%s)
work=$(mktemp -d)
source bench/lib.sh

fourinone_bin=${FOURINONE_BIN:-$(pwd)/build/fourinone}
if [ -n "${FILEOPS_BENCH_BIN:-}" ]; then
  bin=$FILEOPS_BENCH_BIN
  echo "using $bin (FILEOPS_BENCH_BIN): no build"
else
  build_bench_targets "$work/build.log" fileops_bench fourinone_cli
  bin=$(pwd)/build/bench/fileops_bench
fi

park_pid=""
fttp_pids=()
cleanup() {
  trap '' INT TERM
  for p in "${fttp_pids[@]}" $park_pid; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "${fttp_pids[@]}" $park_pid; do wait "$p" 2>/dev/null || true; done
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- servers ---------------------------------------------------------------------------
start_single_park "$fourinone_bin" "$work"
mkdir -p "$work/files"
port_a=$(free_port)
port_b=$(free_port)
while [ "$port_b" = "$port_a" ]; do port_b=$(free_port); done
# The FTTP row: both servers expose the folder files/ as the root "bench" (a row the copied
# config.xml holds already is dropped first).
awk -v servers="127.0.0.1:$port_a,127.0.0.1:$port_b" -v folder="$work/files" '
  /<PROPSROW DESC="FTTP">/ { skip = 1 }
  skip { if (/<\/PROPSROW>/) skip = 0; next }
  /<\/PROPSTABLE>/ {
    print "  <PROPSROW DESC=\"FTTP\">"
    print "    <SERVERS>" servers "</SERVERS>"
    print "    <ROOTS>bench=" folder "</ROOTS>"
    print "  </PROPSROW>"
  }
  { print }' "$work/config.xml" >"$work/fttp.xml"
for port in "$port_a" "$port_b"; do
  "$fourinone_bin" fttp --config "$work/fttp.xml" --server "127.0.0.1:$port" >"$work/fttp_$port.log" 2>&1 &
  fttp_pids+=("$!")
done
for port in "$port_a" "$port_b"; do
  for _ in $(seq 1 100); do
    (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
    sleep 0.1
  done
done

# --- runs ------------------------------------------------------------------------------
for round in $(seq 1 "$rounds"); do
  echo "== round $round of $rounds"
  rm -f "$work/files"/*
  "$bin" --config "$work/fttp.xml" --server-a "127.0.0.1:$port_a" --server-b "127.0.0.1:$port_b" --root bench \
    --dir-a "$work/files" --dir-b "$work/files" --mib "$mib" --connections "$connections" | tee "$work/round$round.out"
done
rm -f "$work/files"/*

# median NAME: the median of the figure NAME over the rounds.
median() {
  cat "$work"/round*.out | awk -v name="$1" '$1 == "R" && $2 == name { v[++n] = $3 }
    END {
      if (n == 0) { print "-"; exit }
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
      print v[int((n + 1) / 2)]
    }'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
verdict() { awk -v r="$1" -v t="$2" 'BEGIN { print (r >= t ? "met" : "MISSED") }'; }

raw_read=$(median raw_read); read_1=$(median fttp_read_1); read_c=$(median "fttp_read_$connections")
raw_write=$(median raw_write); write_1=$(median fttp_write_1); write_c=$(median "fttp_write_$connections")
cp_rate=$(median cp); copy=$(median fttp_copy)
r_read=$(ratio "$read_1" "$raw_read"); r_read_c=$(ratio "$read_c" "$read_1")
r_write=$(ratio "$write_1" "$raw_write"); r_write_c=$(ratio "$write_c" "$write_1")
r_copy=$(ratio "$copy" "$cp_rate")

table=$work/table.md
{
  echo "| workload | MiB/s | baseline | baseline MiB/s | ratio | target |"
  echo "|---|---:|---|---:|---:|---|"
  echo "| read, 1 connection | $read_1 | raw TCP, 1 connection | $raw_read | $r_read | >= 0.80: $(verdict "$r_read" 0.80) |"
  echo "| read, $connections connections (parallel blocks) | $read_c | fttp read, 1 connection | $read_1 | $r_read_c | >= 1.00: $(verdict "$r_read_c" 1.00) |"
  echo "| write (two-phase, fsync), 1 connection | $write_1 | raw TCP, 1 connection, fsync | $raw_write | $r_write | >= 0.80: $(verdict "$r_write" 0.80) |"
  echo "| write, $connections connections (parallel blocks) | $write_c | fttp write, 1 connection | $write_1 | $r_write_c | >= 1.00: $(verdict "$r_write_c" 1.00) |"
  echo "| copy server to server | $copy | local cp + fsync | $cp_rate | $r_copy |   |"
} >"$table"
echo
cat "$table"

[ -n "$write_results" ] || exit 0
section=$work/section.md
{
  echo "# fileops: fttp on loopback against raw TCP and cp"
  echo
  echo "Written by \`$command_line\` on $(date -u '+%Y-%m-%d %H:%M') UTC in $(( $(date +%s) - started )) s (build and runs)."
  echo "One park server and two fttp servers (\`fourinone fttp\`) on 127.0.0.1, both exposing one"
  echo "folder of the disk under /tmp; a ${mib} MiB file of pseudo-random bytes; the page cache warm for"
  echo "every run (ours and the baselines alike), so the figures compare the protocols, not the disk."
  echo "What each workload does: the top of [bench/fileops/fileops_bench.cpp](fileops/fileops_bench.cpp)."
  echo
  echo "## Machine"
  echo
  print_machine
  echo
  echo "## Results"
  echo
  echo "Each figure is the median of $rounds rounds."
  echo
  cat "$table"
  echo
  echo "## Raw output"
  for round in $(seq 1 "$rounds"); do
    echo
    echo "### round $round"
    echo
    echo '```'
    grep -v '^R ' "$work/round$round.out"
    echo '```'
  done
} >"$section"
write_results_section fileops "$section"
echo "wrote the section \"fileops\" of bench/RESULTS.md"
