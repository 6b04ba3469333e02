# Shared by the bench scripts: ports, waiting for a server, running park_bench N times.

# A port for a server to listen on: below the kernel's ephemeral range, so no outgoing
# connection (the load generator opens many) can be holding it, not in any socket of
# /proc/net/tcp*, and nobody answering on it.
free_port() {
  local low=10000 high candidate
  high=$(( $(cut -f1 /proc/sys/net/ipv4/ip_local_port_range) - 1 ))
  [ "$high" -gt $((low + 1000)) ] || high=60000
  for _ in $(seq 1 100); do
    candidate=$((low + RANDOM % (high - low)))
    grep -qi "$(printf ':%04X ' "$candidate")" /proc/net/tcp /proc/net/tcp6 2>/dev/null && continue
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$candidate") 2>/dev/null; then echo "$candidate"; return; fi
  done
  echo "no free port found" >&2
  return 1
}

# start_single_park BIN WORK: writes WORK/config.xml for one park server on a free port (data
# in WORK/data), starts it in the background (log WORK/park.log), waits until it leads, and
# sets park_pid and park_port.
start_single_park() {
  local bin=$1 work=$2 extra=${3:-}
  park_port=$(free_port)
  sed -e "s|<SERVERS>[^<]*</SERVERS>|<SERVERS>127.0.0.1:$park_port</SERVERS>$extra|" \
      -e "s|<DATADIR>[^<]*</DATADIR>|<DATADIR>$work/data</DATADIR>|" config.xml >"$work/config.xml"
  "$bin" park --config "$work/config.xml" >"$work/park.log" 2>&1 &
  park_pid=$!
  wait_for_leader "$bin" "$work/config.xml"
}

# wait_for_leader BIN CONFIG: until `ctl status` names a leader (10 s at most).
wait_for_leader() {
  for _ in $(seq 1 100); do
    if "$1" ctl --config "$2" --timeout 500 status 2>/dev/null | grep -q '^leader: .'; then return 0; fi
    sleep 0.1
  done
  echo "no leader after 10 s" >&2
  return 1
}

# answers PORT REQUEST PREFIX: a fresh connection sent REQUEST gets a first line starting
# with PREFIX within a second.
answers() {
  (
    exec 3<>"/dev/tcp/127.0.0.1/$1" || exit 1
    printf '%s\r\n' "$2" >&3
    IFS= read -r -t 1 line <&3 || exit 1
    [[ $line == "$3"* ]]
  ) 2>/dev/null
}

# wait_answers NAME PORT REQUEST PREFIX: until the server answers (10 s at most).
wait_answers() {
  for _ in $(seq 1 100); do
    answers "$2" "$3" "$4" && return 0
    sleep 0.1
  done
  echo "$1 does not answer on port $2 after 10 s" >&2
  return 1
}

# stop_child PIDFILE: TERM to the server it names (a child of this shell), KILL after 5 s.
stop_child() {
  local file=$1 pid state
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  rm -f "$file"
  kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 50); do
    state=$(ps -o stat= -p "$pid" 2>/dev/null) || break
    [[ $state == Z* ]] && break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# start_redis DIR: Debian's redis-server on a free 127.0.0.1 port with its files in DIR, as
# users run it but memory only (no config file: the binary's defaults minus snapshots and the
# AOF); its pid in DIR/server.pid (stop_child DIR/server.pid stops it). Sets redis_port once
# it answers PING.
start_redis() {
  local dir=$1
  redis_port=$(free_port) || return 1
  (cd "$dir" && exec redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    --daemonize no >"$dir/redis.log" 2>&1) &
  echo $! >"$dir/server.pid"
  wait_answers redis "$redis_port" PING +PONG
}

# run_bench_medians WORK RUNS park_bench-args...: every run, then the median of each figure.
run_bench_medians() {
  local work=$1 runs=$2
  shift 2
  for r in $(seq 1 "$runs"); do
    echo "-- run $r"
    build/bench/park_bench "$@" | tee "$work/run$r.txt"
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
}

# stop_pid_files DIR [GRACE]: stops the servers named by DIR/*.pid: TERM, then KILL what is
# left after GRACE seconds (default 10: an etcd member that lost its quorum takes a while).
# The servers are not children of this shell (start-<i>.sh put them in the background), so
# this polls. A pid counts only while its command line names DIR: a zombie or a reused pid
# does not.
stop_pid_files() {
  local dir=$1 grace=${2:-10} file pid step
  local -a pids=() alive=()
  for file in "$dir"/*.pid; do
    [ -s "$file" ] || continue
    pid=$(cat "$file")
    if _runs_from "$pid" "$dir"; then pids+=("$pid"); kill -TERM "$pid" 2>/dev/null || true; fi
  done
  [ ${#pids[@]} -gt 0 ] || return 0
  for step in $(seq 1 $((grace * 10 + 50))); do
    alive=()
    for pid in "${pids[@]}"; do _runs_from "$pid" "$dir" && alive+=("$pid"); done
    [ ${#alive[@]} -gt 0 ] || return 0
    if [ "$step" = $((grace * 10)) ]; then
      echo "pids ${alive[*]} still run ${grace} s after TERM; killing them" >&2
      kill -KILL "${alive[@]}" 2>/dev/null || true
    fi
    sleep 0.1
  done
  echo "still running after KILL: ${alive[*]}" >&2
  return 1
}

# _runs_from PID DIR: PID is a live process whose command line mentions DIR.
_runs_from() {
  [[ $1 =~ ^[0-9]+$ ]] && tr '\0' ' ' 2>/dev/null <"/proc/$1/cmdline" | grep -qF "$2"
}

# print_machine: the two "Machine" lines of a RESULTS.md section (cores, CPU, memory, kernel;
# OS and the commit measured).
print_machine() {
  echo "- $(nproc) cores: $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo); $(awk '/MemTotal/ {printf "%.0f GiB RAM", $2 / 1048576}' /proc/meminfo); kernel $(uname -r)"
  echo "- $(. /etc/os-release && echo "$PRETTY_NAME"); fourinone $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
}

# print_machine_section: the "## Machine" part of a RESULTS.md section: the heading, a blank
# line, print_machine's lines and a blank line.
print_machine_section() {
  echo "## Machine"
  echo
  print_machine
  echo
}

# write_results_section NAME FILE: puts FILE's text into bench/RESULTS.md between the lines
# "<!-- NAME: begin -->" and "<!-- NAME: end -->", replacing what was there, or appends it
# with those lines; every other part of the file stays as it was. Each bench script owns one
# section, so running one never wipes another's figures.
write_results_section() {
  local name=$1 file=$2 results=bench/RESULTS.md tmp
  local begin="<!-- $name: begin -->" end="<!-- $name: end -->"
  touch "$results"
  tmp=$(mktemp)
  awk -v begin="$begin" -v end="$end" -v file="$file" '
    function emit(   line) {
      print begin
      while ((getline line < file) > 0) print line
      close(file)
      print end
      done = 1
    }
    $0 == begin { emit(); skip = 1; next }
    skip && $0 == end { skip = 0; next }
    !skip { print }
    END {
      if (!done) { if (NR > 0) print ""; emit() }
    }' "$results" >"$tmp"
  cat "$tmp" >"$results"
  rm -f "$tmp"
}

# install_missing_packages PACKAGE...: apt-get installs those not installed yet (through sudo
# when not root). A policy-rc.d answering 101 keeps their maintainer scripts from starting
# system daemons: a system Redis, ZooKeeper or etcd would share the cores with the measured ones.
install_missing_packages() {
  local missing=() p sudo="" policy_added=""
  for p in "$@"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -gt 0 ] || return 0
  [ "$(id -u)" != 0 ] && sudo="sudo"
  echo "installing: ${missing[*]}"
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
    $sudo chmod +x /usr/sbin/policy-rc.d
    policy_added=1
  fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  [ -n "$policy_added" ] && $sudo rm -f /usr/sbin/policy-rc.d
  return 0
}

# What bench/peers.sh and bench/group_cost.sh need for ZooKeeper and etcd: the servers and
# what peer_bench's clients are built from (ZooKeeper's C client; gRPC, protoc and etcd's
# .proto files for etcd's native API).
peer_packages=(zookeeper etcd-server etcd-client libzookeeper-mt-dev
  libgrpc++-dev protobuf-compiler-grpc protobuf-compiler libprotobuf-dev golang-etcd-server-dev)

# build_bench_targets LOG TARGET...: installs the project's packages and builds TARGETs into
# ./build (an existing build folder keeps its build type; a new one gets .ci/build's). On a
# failure prints the end of LOG and exits.
build_bench_targets() {
  local log=$1
  shift
  bash .ci/install-deps
  if [ -e build/CMakeCache.txt ]; then
    cmake -S . -B build >/dev/null
  else
    cmake -S . -B build -DCMAKE_BUILD_TYPE="${FOURINONE_BUILD_TYPE:-RelWithDebInfo}" >/dev/null
  fi
  if ! cmake --build build -j "${FOURINONE_JOBS:-2}" --target "$@" >"$log" 2>&1; then
    tail -n 40 "$log"
    echo "the build failed (above)" >&2
    exit 1
  fi
}

# print_raw_outputs WORK ROUNDS "SYSTEMS": each WORK/SYSTEM.ROUND.out as a "### SYSTEM, round
# ROUND" block of bench/RESULTS.md, without peer_bench's machine-readable "R " lines.
print_raw_outputs() {
  local work=$1 rounds=$2 systems=$3 round system
  for round in $(seq 1 "$rounds"); do
    for system in $systems; do
      [ -e "$work/$system.$round.out" ] || continue
      echo "### $system, round $round"
      echo
      echo '```'
      grep -v '^R ' "$work/$system.$round.out" || true
      echo '```'
      echo
    done
  done
}
