#!/usr/bin/env bash
# The park's own figures (issue 19), all from one run on this machine: bench/single_server.sh
# and bench/group.sh (RUNS runs each, default 3, then KILLS kill -9 of the group's leader,
# default 3) and bench/workers.sh (RUNS runs). Prints every run, then a table of the medians
# with the group / single-server ratios and the issue's targets, and writes it to the "park"
# section of bench/RESULTS.md. About 4 minutes once built.
#
#   bash bench/local.sh [--rounds RUNS] [--kills KILLS] [--no-write]
set -euo pipefail
cd "$(dirname "$0")/.."
runs=3
kills=3
write_results=1
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) runs=$2; shift 2 ;;
    --kills) kills=$2; shift 2 ;;
    --no-write) write_results=""; shift ;;
    *) echo "unknown option $1" >&2; exit 2 ;;
  esac
done
command_line="bash bench/local.sh --rounds $runs --kills $kills"
started=$(date +%s)
[ -x build/fourinone ] && [ -x build/bench/park_bench ] && [ -x build/bench/worker_bench ] || {
  echo "build first: bash .ci/build" >&2
  exit 1
}
source bench/lib.sh

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== single server"
bash bench/single_server.sh "$runs" | tee "$work/single.out"
echo "== group of three"
bash bench/group.sh "$runs" "$kills" | tee "$work/group.out"
echo "== contractor and workers"
bash bench/workers.sh "$runs" | tee "$work/workers.out"

# row FILE NAME COLUMN: a figure of the median block (COLUMN 1 = ops/s, 2 = p50, 3 = p99).
row() {
  awk -v name="$2" -v col="$3" '
    /^-- median/ { medians = 1; next }
    medians && substr($0, 1, 34) ~ "^" name " *$" {
      split(substr($0, 35), f, " "); print (col == 1 ? f[1] : col == 2 ? f[4] : f[7]); exit
    }' "$1"
}
# worker FIGURE COLUMN: the median over the runs of workers.sh's "empty task round trip,
# wait()" line (COLUMN 3 = p50, 6 = p99 after the name) or of the tiny-task rate.
worker_median() {
  awk -v pat="$1" -v col="$2" 'index($0, pat) == 1 {
      split(substr($0, 41), f, " "); v[++n] = f[col]
    }
    END {
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (v[j] + 0 < v[i] + 0) { t = v[i]; v[i] = v[j]; v[j] = t }
      print (n ? v[int((n + 1) / 2)] : "-")
    }' "$work/workers.out"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }'; }
at_least() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 >= t ? "met" : "MISSED") }'; }
below() { awk -v v="$1" -v t="$2" 'BEGIN { print (v + 0 < t ? "met" : "MISSED") }'; }

table=$work/table.md
{
  echo "| figure | single server | group of 3 | group / single | target |"
  echo "|---|---:|---:|---:|---|"
  sw=$(row "$work/single.out" "write \\(update, 64 in flight\\)" 1); gw=$(row "$work/group.out" "write \\(update, 64 in flight\\)" 1)
  r=$(ratio "$gw" "$sw")
  echo "| writes, 64 in flight: ops/s | $sw | $gw | $r | group >= 0.80 of single: $(at_least "$r" 0.80) |"
  for c in 2 3; do
    label=$([ $c = 2 ] && echo p50 || echo p99)
    echo "| writes: $label us | $(row "$work/single.out" "write \\(update, 64 in flight\\)" $c) | $(row "$work/group.out" "write \\(update, 64 in flight\\)" $c) | | |"
  done
  sr=$(row "$work/single.out" "read \\(get, 64 in flight\\)" 1); gr=$(row "$work/group.out" "read \\(get, 64 in flight\\)" 1)
  r=$(ratio "$gr" "$sr")
  echo "| linearizable reads, 64 in flight: ops/s | $sr | $gr | $r | group >= 1.00 of single: $(at_least "$r" 1.00) |"
  for c in 2 3; do
    label=$([ $c = 2 ] && echo p50 || echo p99)
    echo "| linearizable reads: $label us | $(row "$work/single.out" "read \\(get, 64 in flight\\)" $c) | $(row "$work/group.out" "read \\(get, 64 in flight\\)" $c) | | |"
  done
  for c in 2 3; do
    label=$([ $c = 2 ] && echo p50 || echo p99)
    echo "| one client, sequential writes: $label us | $(row "$work/single.out" "write latency \\(1 in flight\\)" $c) | $(row "$work/group.out" "write latency \\(1 in flight\\)" $c) | | (vs ZooKeeper and etcd: the peers section) |"
  done
  sg=$(row "$work/single.out" "read latency \\(1 in flight\\)" 2)
  echo "| one client, sequential gets: p50 us | $sg | $(row "$work/group.out" "read latency \\(1 in flight\\)" 2) | | single < 60: $(below "$sg" 60) |"
  echo "| one client, sequential gets: p99 us | $(row "$work/single.out" "read latency \\(1 in flight\\)" 3) | $(row "$work/group.out" "read latency \\(1 in flight\\)" 3) | | |"
  for c in 2 3; do
    label=$([ $c = 2 ] && echo p50 || echo p99)
    echo "| watch notification: $label us | $(row "$work/single.out" "watch notify latency" $c) | $(row "$work/group.out" "watch notify latency" $c) | | |"
  done
} >"$table"
p50=$(worker_median "empty task round trip, wait()" 2)
p99=$(worker_median "empty task round trip, wait()" 5)
tiny=$(worker_median "tiny tasks through run_job" 1)
failover=$(grep -o 'median [0-9.]* ms, max [0-9.]* ms' "$work/group.out" || echo "-")
lost=$(grep -o 'acknowledged writes: [0-9]*, lost: [0-9]*' "$work/group.out" || echo "-")
workers_table=$work/workers.md
{
  echo "| figure | median | target |"
  echo "|---|---:|---|"
  echo "| empty task round trip (contractor -> worker -> contractor): p50 us | $p50 | < 100: $(below "$p50" 100) |"
  echo "| empty task round trip: p99 us | $p99 | < 300: $(below "$p99" 300) |"
  echo "| tiny tasks through run_job, 2 workers: tasks/s | $tiny | |"
} >"$workers_table"
echo
cat "$table"
echo
cat "$workers_table"
echo
echo "group failover ($kills kill -9 of the leader under writes): $failover; $lost"

[ -n "$write_results" ] || exit 0
section=$work/section.md
{
  echo "# The park's own figures: one server, a group of three, contractor and workers"
  echo
  echo "Written by \`$command_line\` on $(date -u '+%Y-%m-%d %H:%M') UTC in $(( $(date +%s) - started )) s."
  echo "Each figure is the median of $runs runs of \`bench/single_server.sh\`, \`bench/group.sh\` and"
  echo "\`bench/workers.sh\` (fsync on, config.xml defaults, free 127.0.0.1 ports; the load generator"
  echo "\`build/bench/park_bench\` shares the two cores with the servers); ratios from this same run."
  echo
  echo "## Machine"
  echo
  print_machine
  echo
  echo "## Park: single server and group"
  echo
  cat "$table"
  echo
  echo "Group failover ($kills kill -9 of the leader under writes, first acknowledged write after): $failover; $lost."
  echo
  echo "## Contractor and workers"
  echo
  cat "$workers_table"
  echo
  echo "## Raw output"
  for part in single group workers; do
    echo
    echo "### $part"
    echo
    echo '```'
    cat "$work/$part.out"
    echo '```'
  done
} >"$section"
write_results_section park "$section"
echo "wrote the section \"park\" of bench/RESULTS.md"
