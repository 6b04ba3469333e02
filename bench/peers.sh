#!/usr/bin/env bash
# Side by side with ZooKeeper and etcd, on this machine, in one run:
#
#   bash bench/peers.sh [--rounds R] [--seconds S] [--warmup S] [--kills N]
#                       [--systems "park zookeeper etcd"] [--workloads abscdefg]
#                       [--section NAME --title TEXT]
#
# --workloads runs those of peer_bench's workloads, in that order (default abscdefg: (s)
# repeats (a) and (b) with more connections, to show the client saturates each system, and
# runs before the failovers of (g) leave restarted, cold servers behind; (h), election
# failover, is bench/recipes.sh's); --warmup is the mixed load every group gets before the
# first measured row (20 s: ZooKeeper's JIT needs it); --section writes the table to that
# section of bench/RESULTS.md instead of "peers" (bench/recipes.sh uses both).
#
# 1. installs Debian's zookeeper, etcd-server, etcd-client and libzookeeper-mt-dev when missing,
#    without letting the packages start their system daemons, and what peer_bench's etcd gRPC
#    client is generated and built from (gRPC, protoc, etcd's .proto files);
# 2. builds the fourinone binary and build/bench/peer_bench (one load generator, a target per
#    system: libfourinone, ZooKeeper's C client, etcd's gRPC API);
# 3. for each system in turn: starts a three-server group on free 127.0.0.1 ports with its
#    default durability (fsync on), runs workloads (a)-(g) of peer_bench against it, stops it;
#    With --rounds R (default 1) it does all that R times, the systems taking turns, and each
#    figure of the table is the median of its R runs (about 7 minutes a round here);
# 4. prints one table with the ratios ours/peer and writes it, with the machine and the
#    command, to bench/RESULTS.md.
set -euo pipefail
cd "$(dirname "$0")/.."
command_line=${BENCH_COMMAND:-"bash bench/peers.sh $*"}  # recipes.sh names itself
rounds=1
seconds=5
warmup=20
kills=5
systems="park zookeeper etcd"
workloads=abscdefg
section=peers
title="Side by side: park vs ZooKeeper vs etcd"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --warmup) warmup=$2; shift 2 ;;
    --kills) kills=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    --workloads) workloads=$2; shift 2 ;;
    --section) section=$2; shift 2 ;;
    --title) title=$2; shift 2 ;;
    *) echo "unknown option $1 (see the top of bench/peers.sh)" >&2; exit 2 ;;
  esac
done
for system in $systems; do
  case "$system" in
    park | zookeeper | etcd) ;;
    *) echo "unknown system $system (park, zookeeper or etcd)" >&2; exit 2 ;;
  esac
done
started=$(date +%s)

# --- 1. packages -------------------------------------------------------------------------
source bench/lib.sh
install_missing_packages "${peer_packages[@]}"

# --- 2. build ----------------------------------------------------------------------------
build_bench_targets "${TMPDIR:-/tmp}/fourinone-peers-build.log" fourinone_cli peer_bench
bin=$(pwd)/build/fourinone

source bench/peers/park.sh
source bench/peers/zookeeper.sh
source bench/peers/etcd.sh

# start_group SYSTEM DIR: its group of three in DIR; sets endpoints and control (the folder
# with the pid files and start scripts peer_bench's failover workload uses).
start_group() {
  case "$1" in
    park) park_start "$2" "$bin" || return 1; endpoints=$park_endpoints; control=$2/park ;;
    zookeeper) zk_start "$2" || return 1; endpoints=$zk_endpoints; control=$2/zk ;;
    etcd) etcd_start "$2" || return 1; endpoints=$etcd_endpoints; control=$2/etcd ;;
  esac
}

# stop_group SYSTEM DIR: every server of that group, restarted ones included.
stop_group() {
  case "$1" in
    park) park_stop "$2" ;;
    zookeeper) zk_stop "$2" ;;
    etcd) etcd_stop "$2" ;;
  esac
}

work=$(mktemp -d)
here=$work
running=""
cleanup() {
  [ -n "$running" ] && stop_group "$running" "$here"
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

# --- 3. the runs -------------------------------------------------------------------------
for round in $(seq 1 "$rounds"); do
for system in $systems; do
  echo "== $system (round $round of $rounds)"
  out=$work/$system.$round.out
  running=$system
  # Every round starts each group afresh (new ports, empty data); a group that does not
  # start is stopped and tried once more in another folder, then given up.
  for attempt in 1 2; do
    here=$work/round$round.$attempt
    mkdir -p "$here"
    started_ok=1
    start_group "$system" "$here" || started_ok=0
    [ "$started_ok" = 1 ] && break
    stop_group "$system" "$here"
    [ "$attempt" = 1 ] && echo "$system: the group did not start; trying once more"
  done
  status=0
  if [ "$started_ok" = 0 ]; then
    echo "$system: the group did not start; its rows stay empty" | tee "$out"
  else
    build/bench/peer_bench --system "$system" --endpoints "$endpoints" --control "$control" \
      --seconds "$seconds" --warmup "$warmup" --kills "$kills" --workloads "$workloads" | tee "$out" || status=$?
  fi
  if [ "$status" = 3 ]; then echo "$system: skipped (peer_bench was built without its target)"; fi
  if [ "$status" != 0 ] && [ "$status" != 3 ]; then echo "$system: peer_bench exited $status (see above)"; fi
  stop_group "$system" "$here"
  # A finished group's data is not needed again (it takes hundreds of MB); kept on failure.
  if [ "$status" = 0 ] && [ "$started_ok" = 1 ] && [ -z "${KEEP_WORK:-}" ]; then rm -rf "$control"; fi
  running=""
done
done

# --- 4. the table ------------------------------------------------------------------------
elapsed=$(( $(date +%s) - started ))
table=$(cat "$work"/*.out | bash bench/peers/table.sh "$rounds")
echo
echo "$table"
{
  echo "# $title"
  echo
  echo "Written by \`$command_line\` on $(date -u '+%Y-%m-%d %H:%M UTC') in ${elapsed} s (install, build and runs)."
  echo "Each system ran as a group of three on 127.0.0.1 with fsync on, one after the other, on the same machine."
  echo "How each workload is measured, each system's client and lock recipe, and the caveats:"
  echo "[bench/peers/README.md](peers/README.md)."
  echo
  echo "## Machine"
  echo
  echo "- $(nproc) cores: $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ *//'); $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo) RAM; kernel $(uname -r)"
  echo "- $(. /etc/os-release; echo "$PRETTY_NAME")"
  echo "- park: fourinone $(git rev-parse --short HEAD 2>/dev/null || echo '?'); ZooKeeper $(dpkg-query -W -f='${Version}' zookeeper 2>/dev/null); etcd $(dpkg-query -W -f='${Version}' etcd-server 2>/dev/null)"
  echo
  echo "## Results"
  echo
  echo "$table"
  echo
  echo "## Raw output"
  echo
  print_raw_outputs "$work" "$rounds" "$systems"
} >"$work/section.md"
write_results_section "$section" "$work/section.md"
echo
echo "written to bench/RESULTS.md (${elapsed} s in all)"
