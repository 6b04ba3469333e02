#!/usr/bin/env bash
# What a group of three costs against one server, for the park, ZooKeeper and etcd, measured
# in one run on this machine:
#
#   bash bench/group_cost.sh [--rounds R] [--seconds S] [--systems "park zookeeper etcd"]
#
# For each system in turn, R rounds (default 3) of: one server alone, then a group of three
# (bench/peers/*.sh start it exactly as bench/peers.sh does), each with fsync on and its
# default settings on free 127.0.0.1 ports, each driven by peer_bench's workload (a) (puts of
# 100-byte values, 64 in flight over 8 connections, S seconds, default 5, after a warm-up: 20 s
# for ZooKeeper's JIT, 5 s for the others). Prints writes/s of each (median of the rounds) and
# group/single, and writes the table to the "group_cost" section of bench/RESULTS.md.
#
# Why: issue 19 asks a park group for 80% of one server's writes. Three servers that fsync
# every write share this machine's two cores and its one virtual disk with each other and the
# load generator; the peers' own ratios, measured the same way in the same run, show what a
# replicated write costs here whoever does it.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
seconds=5
systems="park zookeeper etcd"
while [ $# -gt 0 ]; do
  case "$1" in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    --systems) systems=$2; shift 2 ;;
    *) echo "unknown option $1 (see the top of bench/group_cost.sh)" >&2; exit 2 ;;
  esac
done
command_line="bash bench/group_cost.sh --rounds $rounds --seconds $seconds --systems \"$systems\""
started=$(date +%s)

source bench/lib.sh
install_missing_packages "${peer_packages[@]}"
build_bench_targets "${TMPDIR:-/tmp}/fourinone-group-cost-build.log" fourinone_cli peer_bench
bin=$(pwd)/build/fourinone
source bench/peers/park.sh
source bench/peers/zookeeper.sh
source bench/peers/etcd.sh

work=$(mktemp -d)
cleanup() {
  for d in "$work"/*/single "$work"/*/park "$work"/*/zk "$work"/*/etcd; do
    [ -d "$d" ] && stop_pid_files "$d" 5 || true
  done
  rm -rf "$work"
}
trap cleanup EXIT

# single_start SYSTEM DIR: one server of SYSTEM with its data in DIR/single (pid in 0.pid);
# sets endpoints.
single_start() {
  local system=$1 dir=$2/single port
  mkdir -p "$dir"
  port=$(free_port)
  case "$system" in
    park)
      sed -e "s|<SERVERS>[^<]*</SERVERS>|<SERVERS>127.0.0.1:$port</SERVERS>|" \
          -e "s|<DATADIR>[^<]*</DATADIR>|<DATADIR>$dir/data</DATADIR>|" config.xml >"$dir/config.xml"
      "$bin" park --config "$dir/config.xml" >"$dir/0.log" 2>&1 &
      echo $! >"$dir/0.pid"
      wait_for_leader "$bin" "$dir/config.xml"
      ;;
    zookeeper)
      local classpath="" jar
      for jar in "${zk_jars[@]}"; do classpath+="${classpath:+:}/usr/share/java/$jar.jar"; done
      # The same settings as bench/peers/zookeeper.sh's servers, without the ensemble.
      cat >"$dir/zoo.cfg" <<EOF
tickTime=500
dataDir=$dir/data
clientPort=$port
clientPortAddress=127.0.0.1
4lw.commands.whitelist=srvr,ruok,stat,mntr
admin.enableServer=false
EOF
      printf 'log4j.rootLogger=WARN, FILE\nlog4j.appender.FILE=org.apache.log4j.FileAppender\nlog4j.appender.FILE.File=%s/0.log\nlog4j.appender.FILE.layout=org.apache.log4j.PatternLayout\n' \
        "$dir" >"$dir/log4j.properties"
      "${JAVA:-java}" -cp "$classpath" -Dlog4j.configuration="file:$dir/log4j.properties" \
        org.apache.zookeeper.server.quorum.QuorumPeerMain "$dir/zoo.cfg" >"$dir/0.out" 2>&1 </dev/null &
      echo $! >"$dir/0.pid"
      local i
      for i in $(seq 1 100); do
        [[ $(zk_srvr "$port") == *"Mode: standalone"* ]] && break
        [ "$i" = 100 ] && { echo "zookeeper alone: not serving after 20 s ($dir)" >&2; return 1; }
        sleep 0.2
      done
      ;;
    etcd)
      local peer
      peer=$(free_port)
      while [ "$peer" = "$port" ]; do peer=$(free_port); done
      "$etcd_bin" --name s --data-dir "$dir/data" \
        --listen-client-urls "http://127.0.0.1:$port" --advertise-client-urls "http://127.0.0.1:$port" \
        --listen-peer-urls "http://127.0.0.1:$peer" --initial-advertise-peer-urls "http://127.0.0.1:$peer" \
        --initial-cluster "s=http://127.0.0.1:$peer" </dev/null >"$dir/0.log" 2>&1 &
      echo $! >"$dir/0.pid"
      local i
      for i in $(seq 1 40); do
        "$etcdctl_bin" --endpoints="127.0.0.1:$port" --dial-timeout=1s --command-timeout=1s \
          endpoint health >/dev/null 2>&1 && break
        [ "$i" = 40 ] && { echo "etcd alone: not serving after 20 s ($dir)" >&2; return 1; }
        sleep 0.5
      done
      ;;
  esac
  endpoints=127.0.0.1:$port
}

group_start() {
  case "$1" in
    park) park_start "$2" "$bin" && endpoints=$park_endpoints ;;
    zookeeper) zk_start "$2" && endpoints=$zk_endpoints ;;
    etcd) etcd_start "$2" && endpoints=$etcd_endpoints ;;
  esac
}

group_stop() {
  case "$1" in
    park) park_stop "$2" ;;
    zookeeper) zk_stop "$2" ;;
    etcd) etcd_stop "$2" ;;
  esac
}

# measure SYSTEM SHAPE ROUND: workload (a) against $endpoints; appends "SYSTEM SHAPE ops" to
# $work/figures and the output to $work/raw.
measure() {
  local warmup=5 ops
  [ "$1" = zookeeper ] && warmup=20
  build/bench/peer_bench --system "$1" --endpoints "$endpoints" --workloads a \
    --seconds "$seconds" --warmup "$warmup" >"$work/out" 2>&1 || true
  ops=$(awk -v s="$1" '$1 == "R" && $2 == s && $3 == "a_write_ops" {print $4}' "$work/out")
  { echo "### $1, $2, round $3"; echo; echo '```'; grep -v '^R ' "$work/out"; echo '```'; echo; } >>"$work/raw"
  echo "$1 $2 ${ops:-}" >>"$work/figures"
  echo "$1 $2 round $3: ${ops:-no figure} writes/s"
}

for round in $(seq 1 "$rounds"); do
  for system in $systems; do
    here=$work/$system-$round
    mkdir -p "$here"
    single_start "$system" "$here" && measure "$system" single "$round"
    stop_pid_files "$here/single" 10
    group_start "$system" "$here" && measure "$system" group "$round"
    group_stop "$system" "$here"
    rm -rf "$here"
  done
done

median() { sort -g | awk '{a[NR] = $1} END {if (NR == 0) print ""; else if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2}'; }
table=$work/table.md
{
  echo "# What a group of three costs against one server: park, ZooKeeper, etcd"
  echo
  echo "Written by \`$command_line\` on $(date -u '+%Y-%m-%d %H:%M') UTC in $(($(date +%s) - started)) s."
  echo "Writes/s of peer_bench's workload (a) (100-byte puts, 64 in flight over 8 connections, fsync"
  echo "on, default settings), median of $rounds rounds; each system alone and as a group of three on"
  echo "free 127.0.0.1 ports, the load generator on the same two cores."
  echo
  echo "## Machine"
  echo
  print_machine
  echo
  echo "## Results"
  echo
  echo "| system | one server: writes/s | group of 3: writes/s | group / one server |"
  echo "|---|---:|---:|---:|"
  for system in $systems; do
    s=$(awk -v s="$system" '$1 == s && $2 == "single" && $3 != "" {print $3}' "$work/figures" | median)
    g=$(awk -v s="$system" '$1 == s && $2 == "group" && $3 != "" {print $3}' "$work/figures" | median)
    r=""
    [ -n "$s" ] && [ -n "$g" ] && r=$(awk -v s="$s" -v g="$g" 'BEGIN {printf "%.2f", g / s}')
    echo "| $system | ${s:-—} | ${g:-—} | ${r:-—} |"
  done
  echo
  echo "## Raw output"
  echo
  cat "$work/raw"
} >"$table"
sed -n '/^## Results/,/^## Raw/p' "$table" | sed '$d'
write_results_section group_cost "$table"
echo "written to bench/RESULTS.md (section group_cost)"
