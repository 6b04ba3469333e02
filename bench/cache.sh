#!/usr/bin/env bash
# Our cache side by side with Redis and memcached, on this machine, in one run:
#
#   bash bench/cache.sh [--rounds R] [--seconds S] [--systems "fourinone redis memcached"] [--no-results]
#
# 1. installs Debian's redis-server and memcached when missing, without letting the packages
#    start their system daemons;
# 2. builds build/bench/cache_bench (one load generator, a target per system) and the
#    fourinone binary. CACHE_BENCH_BIN=PATH skips the build and uses that generator instead
#    (FOURINONE_BIN then names the fourinone binary; default build/fourinone);
# 3. for each round (--rounds R, default 1), each system in turn: starts it on free 127.0.0.1
#    ports, runs the four cells against it (GET and SET, pipeline depth 1 and 16; 50
#    connections, 100-byte values, 100,000 keys set beforehand, S seconds measured after one
#    of warm-up, default 5), stops it. Our cache is one group, a primary and one backup with
#    replication on; Redis and memcached run from the distribution's packages, memory only,
#    as users run them;
# 4. prints one table (each figure the median of its R runs) with the ratios and the targets'
#    verdicts, and writes it with the command, date and commit into the section
#    "## Cache: side by side with Redis and memcached" of bench/RESULTS.md, replacing that
#    section and keeping the rest of the file (--no-results: print only).
#
# Our cache is started by bench/cache/fourinone.sh, sourced when it exists, which defines
#   start_fourinone_cache WORK  starts the group with everything under WORK, using the binary
#                               "$fourinone_bin"; leaves the client config for cache_bench
#                               --config in "$fourinone_config" (default WORK/config.xml);
#                               returns non-zero when the group did not come up;
#   stop_fourinone_cache WORK   stops whatever start_fourinone_cache WORK started (also after
#                               a failed start).
# Without that file the fourinone rows stay empty, with a message.
set -euo pipefail
cd "$(dirname "$0")/.."
command_line="bash bench/cache.sh $*"
rounds=1
seconds=5
systems="fourinone fourinone-wire fourinone-wire-t2 redis memcached"
write_results=1
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --no-results) write_results=""; shift ;;
    *) echo "unknown option $1 (see the top of bench/cache.sh)" >&2; exit 2 ;;
  esac
done
for system in $systems; do
  case "$system" in
    fourinone | fourinone-wire | fourinone-wire-t2 | redis | memcached) ;;
    *) echo "unknown system $system (fourinone, fourinone-wire, fourinone-wire-t2, redis or memcached)" >&2; exit 2 ;;
  esac
done
started=$(date +%s)
work=$(mktemp -d)
notes=$work/notes.txt  # what went wrong or was skipped, for the table's section
: >"$notes"
# note TEXT: prints it, and keeps it once for the section (a skip repeats every round).
note() {
  echo "$*"
  grep -qxF -- "$*" "$notes" || echo "$*" >>"$notes"
}

# --- 1. packages -------------------------------------------------------------------------
source bench/lib.sh
install_missing_packages redis-server memcached
others=$(ps -eo stat=,comm= | awk '$1 !~ /^Z/ && ($2 == "redis-server" || $2 == "memcached")' | wc -l)
[ "$others" -gt 0 ] && echo "note: $others redis-server/memcached processes not started by this script are running; they share the cores"

# --- 2. build ----------------------------------------------------------------------------
fourinone_bin=${FOURINONE_BIN:-$(pwd)/build/fourinone}
if [ -n "${CACHE_BENCH_BIN:-}" ]; then
  bin=$CACHE_BENCH_BIN
  echo "using $bin (CACHE_BENCH_BIN): no build"
else
  targets=(cache_bench)
  [[ " $systems " == *" fourinone"* ]] && targets+=(fourinone_cli cache_events)
  build_bench_targets "$work/build.log" "${targets[@]}"
  bin=$(pwd)/build/bench/cache_bench
fi

have_fourinone=""
if [ -e bench/cache/fourinone.sh ]; then
  source bench/cache/fourinone.sh
  have_fourinone=1
fi

# start_system SYSTEM DIR: the system on free ports with its files in DIR; sets target_args
# (how cache_bench reaches it).
start_system() {
  local dir=$2 port
  mkdir -p "$dir"
  case "$1" in
    fourinone | fourinone-wire | fourinone-wire-t2)
      fourinone_config=""
      fourinone_threads=1
      [ "$1" = fourinone-wire-t2 ] && fourinone_threads=2
      start_fourinone_cache "$dir" || return 1
      target_args=(--config "${fourinone_config:-$dir/config.xml}")
      ;;
    redis)
      start_redis "$dir" || return 1
      target_args=(--server "127.0.0.1:$redis_port")
      ;;
    memcached)
      port=$(free_port) || return 1
      # -U 0: TCP only. memcached refuses to run as root unless told whom to become.
      local user=()
      [ "$(id -u)" = 0 ] && user=(-u nobody)
      (cd "$dir" && exec memcached -l 127.0.0.1 -p "$port" -U 0 -m 1024 "${user[@]}" >"$dir/memcached.log" 2>&1) &
      echo $! >"$dir/server.pid"
      wait_answers memcached "$port" version VERSION || return 1
      target_args=(--server "127.0.0.1:$port")
      ;;
  esac
}

stop_system() {
  case "$1" in
    fourinone | fourinone-wire | fourinone-wire-t2) stop_fourinone_cache "$2" ;;
    *) stop_child "$2/server.pid" ;;
  esac
}

running=""  # "SYSTEM DIR" of the system that is up, for the trap
bench_pid=""  # the cache_bench that runs, for the trap
cleanup() {
  if [ -n "$bench_pid" ]; then kill -TERM "$bench_pid" 2>/dev/null || true; wait "$bench_pid" 2>/dev/null || true; fi
  if [ -n "$running" ]; then stop_system $running || true; fi
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- 3. the runs -------------------------------------------------------------------------
raw=$work/raw.txt  # "round=R system=... op=... depth=... ops_per_s=..." per successful cell
: >"$raw"
for round in $(seq 1 "$rounds"); do
  for system in $systems; do
    echo "== $system (round $round of $rounds)"
    if [[ $system == fourinone* ]] && [ -z "$have_fourinone" ]; then
      note "fourinone: skipped (no bench/cache/fourinone.sh to start it)"
      continue
    fi
    # A system that does not start (a port taken between free_port and bind, say) is
    # stopped and tried once more in a fresh folder, then given up for this round.
    up=""
    for attempt in 1 2; do
      dir=$work/round$round/$system.$attempt
      running="$system $dir"
      if start_system "$system" "$dir"; then up=1; break; fi
      stop_system "$system" "$dir" || true
      running=""
    done
    if [ -z "$up" ]; then
      note "$system (round $round): did not start twice; its figures stay empty"
      continue
    fi
    for op in get set; do
      for depth in 1 16; do
        status=0
        # In the background, so that INT or TERM stop the run at once rather than after the cell.
        "$bin" --system "${system%-t2}" "${target_args[@]}" --ops "$op" --depth "$depth" --connections 50 \
          --value-size 100 --keys 100000 --seconds "$seconds" --warmup 1 --preload >"$work/line" 2>"$work/stderr" &
        bench_pid=$!
        wait "$bench_pid" || status=$?
        bench_pid=""
        cat "$work/stderr" >&2
        line=$(cat "$work/line")
        # The generator knows the target, not the server's THREADS: name the row after the system.
        line=${line/system=${system%-t2} /system=$system }
        if [ "$status" = 0 ]; then
          echo "$line"
          echo "round=$round $line" >>"$raw"
        elif [ "$status" = 3 ]; then
          note "$system: skipped (cache_bench was built without its target)"
          break 2
        else
          note "$system $op depth $depth (round $round): cache_bench exited $status: $(tail -n 1 "$work/stderr")"
        fi
      done
    done
    stop_system "$system" "$dir"
    running=""
  done
done

# --- 4. the table ------------------------------------------------------------------------
# Medians over the rounds of each (system, op, depth) figure; then one row per (op, depth).
# make_table SYSTEM: the table of SYSTEM (fourinone or fourinone-wire) against the peers.
make_table() {
  awk -v us="$1" '
  {
    for (i = 1; i <= NF; i++) { split($i, kv, "="); f[kv[1]] = kv[2] }
    cell = f["system"] SUBSEP f["op"] SUBSEP f["depth"]
    k = ++count[cell]
    ops[cell, k] = f["ops_per_s"]; p99[cell, k] = f["p99_us"]; cpu[cell, k] = f["client_cpu_pct"]
  }
  function median(arr, cell,   c, i, j, t, v) {
    c = count[cell]
    if (c == 0) return ""
    for (i = 1; i <= c; i++) v[i] = arr[cell, i] + 0
    for (i = 1; i <= c; i++) for (j = i + 1; j <= c; j++) if (v[j] < v[i]) { t = v[i]; v[i] = v[j]; v[j] = t }
    return c % 2 ? v[(c + 1) / 2] : (v[c / 2] + v[c / 2 + 1]) / 2
  }
  function show(x, format) { return x == "" ? "-" : sprintf(format, x) }
  function ratio(a, b) { return (a == "" || b == "" || b == 0) ? "-" : sprintf("%.2f", a / b) }
  BEGIN {
    print "| op | depth | " us " ops/s | " us " p99 us | Redis ops/s | Redis p99 us | memcached ops/s | memcached p99 us | " us "/memcached | " us "/Redis | target | generator CPU % (" us " / Redis / memcached) |"
    print "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|"
  }
  END {
    split("get get set set", op_of, " "); split("1 16 1 16", depth_of, " ")
    for (r = 1; r <= 4; r++) {
      op = op_of[r]; depth = depth_of[r]
      fo = median(ops, us SUBSEP op SUBSEP depth); fp = median(p99, us SUBSEP op SUBSEP depth)
      ro = median(ops, "redis" SUBSEP op SUBSEP depth); rp = median(p99, "redis" SUBSEP op SUBSEP depth)
      mo = median(ops, "memcached" SUBSEP op SUBSEP depth); mp = median(p99, "memcached" SUBSEP op SUBSEP depth)
      # Throughput: at depth 1 against memcached, at depth 16 against Redis.
      peer = depth == 1 ? "memcached" : "Redis"; po = depth == 1 ? mo : ro
      if (fo == "" || po == "") verdict = "ops/s >= " peer ": -"
      else verdict = "ops/s >= " peer ": " (fo >= po ? "met" : "missed")
      # p99: no worse than the better (lower) of the peers that ran.
      best = rp; if (mp != "" && (best == "" || mp < best)) best = mp
      if (fo == "" || best == "") verdict = verdict "; p99 <= better peer: -"
      else verdict = verdict "; p99 <= better peer (" sprintf("%.0f", best) "): " (fp <= best ? "met" : "missed")
      cpus = show(median(cpu, us SUBSEP op SUBSEP depth), "%.0f") " / " show(median(cpu, "redis" SUBSEP op SUBSEP depth), "%.0f") " / " show(median(cpu, "memcached" SUBSEP op SUBSEP depth), "%.0f")
      printf "| %s | %d | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", toupper(op), depth, show(fo, "%.0f"), show(fp, "%.0f"), show(ro, "%.0f"), show(rp, "%.0f"), show(mo, "%.0f"), show(mp, "%.0f"), ratio(fo, mo), ratio(fo, ro), verdict, cpus
    }
  }' "$raw"
}
table="$(make_table fourinone)

$(make_table fourinone-wire)

$(make_table fourinone-wire-t2)"
# --- 5. failover and scale-out of our cache (bench/cache/events.sh) ------------------------
events=""
if [[ " $systems " == *" fourinone "* ]] && [ -e bench/cache/events.sh ]; then
  echo "== fourinone: failover and scale-out"
  source bench/cache/events.sh
  CACHE_EVENTS_BIN=${CACHE_EVENTS_BIN:-$(pwd)/build/bench/cache_events}
  export CACHE_EVENTS_BIN
  if ! events=$(run_fourinone_events "$work/events"); then note "fourinone events: run_fourinone_events failed"; fi
  echo "$events"
fi

elapsed=$(( $(date +%s) - started ))
echo
echo "$table"
if [ -s "$notes" ]; then echo; cat "$notes"; fi

[ -n "$write_results" ] || exit 0
title="## Cache: side by side with Redis and memcached"
section=$work/section.md
{
  echo "$title"
  echo
  echo "Written by \`$command_line\` on $(date -u '+%Y-%m-%d %H:%M UTC') at commit $(git rev-parse --short HEAD 2>/dev/null || echo '?') in ${elapsed} s (install, build and runs)."
  echo "Each system ran alone on 127.0.0.1, one after the other, on this machine:" \
    "$(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//')), $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM, kernel $(uname -r), $(. /etc/os-release; echo "$PRETTY_NAME")."
  echo
  for system in $systems; do
    case "$system" in
      fourinone) echo "- fourinone: one group, a primary and one backup, replication on (every SET is on the backup before it is acknowledged), driven through the client library users link (routing, deadlines, retries; one Cache with a pool of 50 sockets)." ;;
      fourinone-wire) echo "- fourinone-wire: the same servers, driven with our frames written and parsed by hand (bench/cache/wire_target.cpp), a generator as light as the Redis and memcached ones." ;;
      fourinone-wire-t2) echo "- fourinone-wire-t2: as fourinone-wire, with CACHE/THREADS 2 (gets served on two io threads; writes still go through the main one)." ;;
      redis) echo "- Redis $(dpkg-query -W -f='${Version}' redis-server 2>/dev/null), Debian's package: \`redis-server --save '' --appendonly no\` (memory only), otherwise its defaults." ;;
      memcached) echo "- memcached $(dpkg-query -W -f='${Version}' memcached 2>/dev/null), Debian's package: \`memcached -m 1024 -U 0\`, otherwise its defaults (4 threads)." ;;
    esac
  done
  echo
  echo "One load generator for all, cache_bench (bench/cache/), one io thread: 50 connections, 100-byte values,"
  echo "100,000 keys all set beforehand (so GETs hit), uniform random keys, ${seconds} s measured after 1 s of warm-up."
  echo "At depth 16 each connection sends 16 commands in one write; an op's latency is its batch's round trip."
  [ "$rounds" -gt 1 ] && echo "Each figure is the median of its $rounds rounds; in each round the systems took turns."
  echo
  echo "$table"
  echo
  if [ -n "$events" ]; then
    echo "Our cache's failover and scale-out (bench/cache/events.sh; SESSIONTIMEOUT 2000 ms): the time from a kill -9 of the primary to the first write sent afterwards and acknowledged by the backup that took over, the writes acknowledged and then read back, and the keys whose group changed when a second group joined (moved keys are misses by design, see cache/README.md):"
    echo
    echo '```'
    echo "$events"
    echo '```'
    echo
  fi
  echo "Targets: GET and SET at depth 1 at least memcached's ops/s, at depth 16 at least Redis's; p99 no worse than the better peer's."
  echo "Ratios are fourinone / peer. The generator shares the $(nproc) cores with the servers; its CPU is its own (user + system) during the measured window, in % of one core."
  if [ -s "$notes" ]; then
    echo
    sed 's/^/- /' "$notes"
  fi
  echo
  echo "Raw cache_bench lines:"
  echo
  echo '```'
  cat "$raw"
  echo '```'
} >"$section"
write_results_section cache "$section"
echo
echo "written to bench/RESULTS.md (${elapsed} s in all)"
