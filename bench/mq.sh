#!/usr/bin/env bash
# Our message queue side by side with Redis lists and ZooKeeper's queue recipe, on this
# machine, in one run:
#
#   bash bench/mq.sh [--rounds R] [--seconds S] [--systems fourinone,redis,zookeeper] [--no-results]
#
# 1. installs Debian's zookeeper, libzookeeper-mt-dev and redis-server when missing, without
#    letting the packages start their system daemons;
# 2. builds build/bench/mq_bench (one load generator, a target per system) and the fourinone
#    binary. MQ_BENCH_BIN=PATH skips the build and uses that generator instead (FOURINONE_BIN
#    then names the fourinone binary; default build/fourinone);
# 3. for each round (--rounds R, default 1), each system in turn: starts it on free 127.0.0.1
#    ports, runs mq_bench's three workloads against it (1 producer + 1 consumer, 4 + 4, and
#    publish -> subscriber latency at a moderate rate; 100-byte messages; S seconds measured
#    after one of warm-up, default 5), stops it. Our queue lives in a park group of three with
#    fsync on (bench/peers/park.sh); ZooKeeper is a three-server ensemble, fsync on
#    (bench/peers/zookeeper.sh); Redis is one server, memory only (lib.sh's start_redis);
# 4. prints one table (each figure the median of its R runs) with the ratios and the issue's
#    targets, and writes it with the client modes, the machine and every round's raw output
#    into the section "mq" of bench/RESULTS.md, keeping the rest of the file (--no-results:
#    print only).
#
# A system whose target mq_bench was built without (ZooKeeper without libzookeeper-mt-dev) is
# skipped with a note; its column stays empty. --systems redis,zookeeper measures the peers
# alone.
set -euo pipefail
cd "$(dirname "$0")/.."
command_line="bash bench/mq.sh $*"
rounds=1
seconds=5
systems="fourinone redis zookeeper"
write_results=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --systems) systems=${2//,/ }; shift 2 ;;
    --no-results) write_results=""; shift ;;
    *) echo "unknown option $1 (see the top of bench/mq.sh)" >&2; exit 2 ;;
  esac
done
for system in $systems; do
  case "$system" in
    fourinone | redis | zookeeper) ;;
    *) echo "unknown system $system (fourinone, redis or zookeeper)" >&2; exit 2 ;;
  esac
done
# The client modes, the same for every system (the section states them).
window=256      # sends outstanding per producer
batch=64        # messages per receive
rate=500        # publishes per second in the latency workload
max_backlog=10000  # producers pause while this many messages are sent and not yet received
drain=30        # seconds after the window for the consumers to take what is left
started=$(date +%s)
work=$(mktemp -d)
notes=$work/notes.txt  # what went wrong or was skipped, for the section
: >"$notes"
# note TEXT: prints it, and keeps it once for the section (a skip repeats every round).
note() {
  echo "$*"
  grep -qxF -- "$*" "$notes" || echo "$*" >>"$notes"
}

# --- 1. packages -------------------------------------------------------------------------
source bench/lib.sh
install_missing_packages zookeeper libzookeeper-mt-dev redis-server
# ([Q]: not this awk itself, whose command line holds the pattern.)
others=$(ps -eo stat=,args= | awk '$1 !~ /^Z/ && ($2 ~ /redis-server$/ || /[Q]uorumPeerMain/)' | wc -l)
[ "$others" -gt 0 ] && echo "note: $others Redis/ZooKeeper processes not started by this script are running; they share the cores"

# --- 2. build ----------------------------------------------------------------------------
fourinone_bin=${FOURINONE_BIN:-$(pwd)/build/fourinone}
if [ -n "${MQ_BENCH_BIN:-}" ]; then
  bin=$MQ_BENCH_BIN
  echo "using $bin (MQ_BENCH_BIN): no build"
else
  targets=(mq_bench)
  [[ " $systems " == *" fourinone "* ]] && targets+=(fourinone_cli)
  build_bench_targets "$work/build.log" "${targets[@]}"
  bin=$(pwd)/build/bench/mq_bench
fi

source bench/peers/park.sh
source bench/peers/zookeeper.sh

# start_system SYSTEM DIR: the system on free ports with its files in DIR; sets target_args
# (how mq_bench reaches it).
start_system() {
  mkdir -p "$2"
  case "$1" in
    fourinone) park_start "$2" "$fourinone_bin" || return 1; target_args=(--config "$2/park/config.xml") ;;
    zookeeper) zk_start "$2" || return 1; target_args=(--endpoints "$zk_endpoints") ;;
    redis) start_redis "$2" || return 1; target_args=(--server "127.0.0.1:$redis_port") ;;
  esac
}

# stop_system SYSTEM DIR: every server that start_system SYSTEM DIR started.
stop_system() {
  case "$1" in
    fourinone) park_stop "$2" ;;
    zookeeper) zk_stop "$2" ;;
    redis) stop_child "$2/server.pid" ;;
  esac
}

running=""    # the system that is up (its files in $dir), for the trap
bench_pid=""  # the mq_bench that runs, for the trap
cleanup() {
  # A second INT or TERM (Ctrl-C twice, or timeout passing one on) must not cut the cleanup
  # short and leave servers running.
  trap '' INT TERM
  if [ -n "$bench_pid" ]; then kill -TERM "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  if [ -n "$running" ]; then stop_system "$running" "$dir" || true; fi
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 3. the runs -------------------------------------------------------------------------
raw=$work/raw.txt  # "ROUND SYSTEM FIGURE VALUE" for every figure mq_bench printed
: >"$raw"
# Three workloads, each at most warm-up + window + drain, plus connecting: past this the run
# is stopped (a system that stopped answering).
limit=$(awk -v s="$seconds" -v d="$drain" 'BEGIN { printf "%d", 3 * (1 + s + d + 20) + 60 }')
for round in $(seq 1 "$rounds"); do
  for system in $systems; do
    echo "== $system (round $round of $rounds)"
    out=$work/$system.$round.out
    status=0
    "$bin" --system "$system" --check 2>"$work/stderr" || status=$?
    if [ "$status" != 0 ]; then
      note "$system: skipped ($(head -n 1 "$work/stderr"))"
      continue
    fi
    # A system that does not start (a port taken between free_port and bind, say) is
    # stopped and tried once more in a fresh folder, then given up for this round.
    up=""
    for attempt in 1 2; do
      dir=$work/round$round/$system.$attempt
      running=$system
      if start_system "$system" "$dir"; then up=1; break; fi
      stop_system "$system" "$dir" || true
      running=""
    done
    if [ -z "$up" ]; then
      note "$system (round $round): did not start twice; its figures stay empty"
      continue
    fi
    # In the background, so that INT or TERM stop the run at once.
    timeout "$limit" "$bin" --system "$system" "${target_args[@]}" --seconds "$seconds" --warmup 1 \
      --window "$window" --batch "$batch" --rate "$rate" --max-backlog "$max_backlog" --drain-seconds "$drain" \
      >"$out" 2>"$work/stderr" &
    bench_pid=$!
    wait "$bench_pid" || status=$?
    bench_pid=""
    cat "$out"
    cat "$work/stderr" >&2
    # stderr's lines go into the raw output too: they say what went wrong.
    sed 's/^/stderr: /' "$work/stderr" >>"$out"
    if [ "$status" = 124 ]; then
      note "$system (round $round): mq_bench was stopped after ${limit} s"
    elif [ "$status" != 0 ]; then
      note "$system (round $round): mq_bench exited $status: $(grep -v '^zookeeper client' "$work/stderr" | tail -n 1)"
    fi
    awk -v r="$round" -v s="$system" '/^[a-z0-9_]+: [-0-9.]+ / { sub(/:$/, "", $1); print r, s, $1, $2 }' "$out" >>"$raw"
    stop_system "$system" "$dir"
    running=""
    # A finished group's data is not needed again; kept on failure for a look.
    if [ "$status" = 0 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$dir"; fi
  done
done

# --- 4. the table ------------------------------------------------------------------------
table=$(awk '
  {
    k = ++count[$2, $3]; all[$2, $3, k] = $4
    # The checks, summed over rounds and workloads: "lost", "duplicates", ... per system.
    if (match($3, /_(lost|duplicates|unexpected|send_failures)$/)) { total[$2, substr($3, RSTART + 1)] += $4; checked[$2] = 1 }
  }
  function median(s, f,   c, i, j, t, v) {
    c = count[s, f]
    if (c == 0) return ""
    for (i = 1; i <= c; i++) v[i] = all[s, f, i] + 0
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
  }
  function show(x) { return x == "" ? "-" : sprintf("%.0f", x) }
  function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
  function verdict(ok, have) { return have ? (ok ? "met" : "missed") : "-" }
  function row(label, f,   fo, re, zk, target) {
    fo = median("fourinone", f); re = median("redis", f); zk = median("zookeeper", f)
    if (f == "one_to_one_msgs_per_s")
      target = ">= Redis / 2: " verdict(fo >= re / 2, fo != "" && re != "")
    else if (f == "four_to_four_msgs_per_s")
      target = ">= 12,000: " verdict(fo >= 12000, fo != "") "; >= 20x ZK: " verdict(fo >= 20 * zk, fo != "" && zk != "") \
               "; >= Redis / 2: " verdict(fo >= re / 2, fo != "" && re != "")
    else if (f == "pubsub_p99_us")
      target = "< 5,000 us: " verdict(fo < 5000, fo != "")
    else target = ""
    printf "| %s | %s | %s | %s | %s | %s | %s |\n", label, show(fo), show(re), show(zk), ratio(fo, re), ratio(fo, zk), target
  }
  function counts(s,   n, f, i, out) {
    n = split("lost duplicates unexpected send_failures", f, " ")
    for (i = 1; i <= n; i++) out = out " | " (s in checked ? total[s, f[i]] + 0 : "-")
    return out
  }
  END {
    print "| figure | fourinone | Redis | ZooKeeper | fourinone/Redis | fourinone/ZK | target |"
    print "|---|---:|---:|---:|---:|---:|---|"
    row("1 producer + 1 consumer: msg/s (send -> receive -> ack)", "one_to_one_msgs_per_s")
    row("4 producers + 4 consumers: msg/s", "four_to_four_msgs_per_s")
    row("publish -> subscriber at 500/s: p50 us", "pubsub_p50_us")
    row("publish -> subscriber at 500/s: p99 us", "pubsub_p99_us")
    print ""
    print "Ratios are fourinone / peer: above 1 is better for msg/s, below 1 for latency."
    print ""
    print "Every message checked (all rounds and workloads; lost = acknowledged sends never received), and the load generator:"
    print ""
    print "| system | lost | duplicates | unexpected | send failures | mq_bench CPU % 1+1 | 4+4 | pubsub |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|"
    split("fourinone redis zookeeper", sys, " ")
    for (i = 1; i <= 3; i++)
      printf "| %s%s | %s | %s | %s |\n", sys[i], counts(sys[i]), show(median(sys[i], "one_to_one_client_cpu_pct")),
             show(median(sys[i], "four_to_four_client_cpu_pct")), show(median(sys[i], "pubsub_client_cpu_pct"))
  }' "$raw")

elapsed=$(( $(date +%s) - started ))
echo
echo "$table"
if [ -s "$notes" ]; then echo; cat "$notes"; fi

[ -n "$write_results" ] || exit 0
# describe SYSTEM WORKLOAD: how mq_bench's target used the system (its first header line).
describe() {
  cat "$work/$1".*.out 2>/dev/null | grep -m1 "^mq_bench: $1 $2 " | sed 's/^.* consumer(s)): //' || true
}
section=$work/section.md
{
  echo "## Message queue: side by side with Redis and ZooKeeper"
  echo
  echo "Written by \`$command_line\` on $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?') in ${elapsed} s (install, build and runs)."
  echo "Each system ran alone on 127.0.0.1, one after the other, on this machine:" \
    "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")."
  echo
  for system in $systems; do
    if [ -z "$(describe "$system" one_to_one)" ]; then
      echo "- $system: not measured (see the notes below)."
      continue
    fi
    case "$system" in
      fourinone) echo "- fourinone: a park group of three servers, config.xml defaults (bench/peers/park.sh): every log append fdatasynced on leader and followers, a send acknowledged once a majority holds it. Client (fourinone::Mq): $(describe fourinone one_to_one). Latency row: $(describe fourinone pubsub)." ;;
      redis) echo "- Redis $(dpkg-query -W -f='${Version}' redis-server 2>/dev/null), Debian's package, one server, \`redis-server --save '' --appendonly no\` (memory only: nothing survives a restart). Client (RESP, bench/mq/redis_target.cpp): $(describe redis one_to_one). Latency row: $(describe redis pubsub)." ;;
      zookeeper) echo "- ZooKeeper $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null), Debian's package, a three-server ensemble (bench/peers/zookeeper.sh), forceSync on (default). Client (libzookeeper_mt): $(describe zookeeper one_to_one)." ;;
    esac
  done
  echo
  echo "One load generator for all, mq_bench (bench/mq/), 100-byte messages, each producer and consumer a connection and a thread of its own."
  echo "Throughput rows: ${seconds} s measured after 1 s of warm-up; a message counts when its consumer has received and acked it."
  echo "Producers keep up to ${window} sends outstanding and pause while ${max_backlog} messages are sent and not yet received (the queue stays bounded: the figure is the rate sustained end to end); consumers take up to ${batch} a call, waiting up to 100 ms."
  echo "Latency rows: one publisher at ${rate} messages/s, one subscriber; publish -> received, the send time carried in the body (same host, steady clock)."
  echo "After each workload the consumers drain (up to ${drain} s) and every acknowledged send must have been received once: the sequence numbers in the bodies are checked."
  [ "$rounds" -gt 1 ] && echo "Each figure is the median of its $rounds rounds; in each round the systems took turns."
  echo
  echo "$table"
  echo
  echo "Targets (the issue): 4+4 at least 12,000 msg/s end to end on the group with fsync on, at least 20x the ZooKeeper recipe and within 2x of Redis (memory only); p99 publish -> deliver under 5 ms at moderate load."
  echo "The generator shares the $(nproc) cores with the servers; its CPU is its own (user + system) during the measured window, in % of one core."
  echo "Where it nears 100 % (Redis: every socket on one io thread of mq_bench), the figure is the generator's limit, not the server's."
  if [ -s "$notes" ]; then
    echo
    sed 's/^/- /' "$notes"
  fi
  echo
  echo "Raw mq_bench output:"
  echo
  print_raw_outputs "$work" "$rounds" "$systems"
} >"$section"
write_results_section mq "$section"
echo
echo "written to bench/RESULTS.md (${elapsed} s in all)"
