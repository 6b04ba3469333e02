# Sourced by bench/cache.sh: the two cache events besides throughput, measured by
# cache_events (bench/cache/cache_events.cpp) on 127.0.0.1 with everything under WORK.
#
#   run_fourinone_events WORK
#
# 1. failover: one park server (SESSIONTIMEOUT 2000, HEARTBEAT 500) and one group a of two
#    servers. Once the primary has its backup in sync, `cache_events failover` writes from 4
#    threads, kills the primary with SIGKILL after 1 s and writes on; then the killed server is
#    started again and the time until it is the primary's in-sync backup again is measured.
# 2. scale-out (a fresh park): group a of one server gets 100,000 keys; a second CACHEGROUP
#    row b of one server is added to the config and b started; `cache_events scaleout
#    --phase after` counts the keys that moved to b and reads every key back.
#
# Prints one line per figure, starting with "event " (the lines of cache_events, and
# "event rejoin_ms=..."). Returns non-zero when a step failed or a check failed (a lost
# acknowledged write, a stayed key missing, a wrong value); what it could measure is printed
# anyway. Every process it starts is stopped when it returns, on failure or INT/TERM too:
# cache servers first (SIGTERM, SIGKILL after 5 s), then the park.
#
# Uses "$fourinone_bin" (default build/fourinone) and CACHE_EVENTS_BIN (default
# build/bench/cache_events), and free_port from bench/lib.sh (sourced here when missing).

# The _events_* helpers run inside run_fourinone_events' subshell and share its ev_* variables.
# shellcheck disable=SC2030,SC2031
_events_here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
declare -F free_port >/dev/null || source "$_events_here/../lib.sh"

# In a subshell, so that its traps and `set +e` do not touch the caller's.
run_fourinone_events() (
  set +e
  work=$1
  ev_fourinone=${fourinone_bin:-build/fourinone}
  ev_events=${CACHE_EVENTS_BIN:-build/bench/cache_events}
  ev_running=""  # the cache_events pid while it runs
  for f in "$ev_fourinone" "$ev_events"; do
    [ -x "$f" ] || { echo "events: $f is not an executable" >&2; exit 1; }
  done
  mkdir -p "$work" || exit 1
  trap '_events_cleanup "$work" 2>/dev/null' EXIT
  trap 'exit 130' INT TERM
  status=0
  _events_failover "$work/failover" || status=1
  _events_stop_all "$work/failover"
  _events_scaleout "$work/scaleout" || status=1
  _events_stop_all "$work/scaleout"
  exit $status
)

# _events_failover DIR: the primary's kill and its backup taking over, then the rejoin.
_events_failover() {
  local dir=$1 park a b line primary pid started rejoin_ms
  mkdir -p "$dir" || return 1
  _events_ports 3 || return 1
  park=${ev_ports[0]} a=127.0.0.1:${ev_ports[1]} b=127.0.0.1:${ev_ports[2]}
  _events_config "$dir" "$park" "a=$a,$b"
  _events_start park "$dir" park || return 1
  _events_start cache "$dir" "$a" || return 1
  _events_start cache "$dir" "$b" || return 1
  _events_wait_stat "$dir" ' primary .*backups_in_sync 1' || return 1
  primary=$(awk '$1 == "server:" && $5 == "primary" { print $2; exit }' "$dir/stat.txt")
  pid=$(cat "$dir/cache-$primary.pid" 2>/dev/null)
  if [ -z "$primary" ] || [ -z "$pid" ]; then
    echo "events: no pid for the primary '$primary'" >&2
    return 1
  fi
  _events_run "$dir/failover.out" "$ev_events" failover --config "$dir/config.xml" --pid "$pid" \
    --writers 4 --before-ms 1000 --after-ms 3000
  local run_status=$?
  line=$(cat "$dir/failover.out")
  [ -n "$line" ] && echo "event $line (killed $primary, SESSIONTIMEOUT 2000)"
  # The killed server starts again, empty, and is copied to: time to being in sync again.
  local state
  state=$(ps -o stat= -p "$pid" 2>/dev/null)
  if [ -n "$state" ] && [[ $state != Z* ]]; then
    echo "events: cache_events did not kill $primary (pid $pid); no rejoin" >&2
    return 1
  fi
  wait "$pid" 2>/dev/null
  rm -f "$dir/cache-$primary.pid"
  started=$(date +%s%N)
  _events_start cache "$dir" "$primary" || return 1
  if _events_wait_stat "$dir" " primary .*backups_in_sync 1" "^server: $primary group a backup "; then
    rejoin_ms=$(( ($(date +%s%N) - started) / 1000000 ))
    echo "event rejoin_ms=$rejoin_ms ($primary restarted until the primary has it in sync;" \
      "keys by role: $(awk '$1 == "server:" { printf "%s %s ", $5, $9 }' "$dir/stat.txt"| sed 's/ $//'))"
  else
    echo "event rejoin: the restarted $primary was not in sync after 20 s" >&2
    run_status=1
  fi
  return $run_status
}

# _events_scaleout DIR: one group with 100,000 keys, then a second group joins.
_events_scaleout() {
  local dir=$1 park a b line
  mkdir -p "$dir" || return 1
  _events_ports 3 || return 1
  park=${ev_ports[0]} a=127.0.0.1:${ev_ports[1]} b=127.0.0.1:${ev_ports[2]}
  _events_config "$dir" "$park" "a=$a"
  _events_start park "$dir" park || return 1
  _events_start cache "$dir" "$a" || return 1
  _events_wait_stat "$dir" '^server: [^ ]+ group a primary ' || return 1
  _events_run "$dir/before.out" "$ev_events" scaleout --config "$dir/config.xml" --keys 100000 --phase before ||
    { cat "$dir/before.out"; return 1; }
  _events_config "$dir" "$park" "a=$a" "b=$b"
  _events_start cache "$dir" "$b" || return 1
  _events_wait_stat "$dir" '^server: [^ ]+ group b primary ' || return 1
  _events_run "$dir/after.out" "$ev_events" scaleout --config "$dir/config.xml" --keys 100000 --phase after
  local run_status=$?
  line=$(cat "$dir/after.out")
  [ -n "$line" ] && echo "event $line (1 -> 2 groups)"
  return $run_status
}

# _events_ports N: N distinct free ports in ev_ports (free_port may return one twice before
# anything listens on it).
_events_ports() {
  local port
  ev_ports=()
  while [ ${#ev_ports[@]} -lt "$1" ]; do
    port=$(free_port) || return 1
    [[ " ${ev_ports[*]} " == *" $port "* ]] || ev_ports+=("$port")
  done
}

# _events_config DIR PARK_PORT GROUP...: DIR/config.xml with one CACHEGROUP row per GROUP.
_events_config() {
  local dir=$1 park=$2 group
  shift 2
  {
    echo "<PROPSTABLE>"
    echo "  <PROPSROW DESC=\"PARK\">"
    echo "    <SERVERS>127.0.0.1:$park</SERVERS>"
    echo "    <DATADIR>$dir/data</DATADIR>"
    echo "    <SESSIONTIMEOUT>2000</SESSIONTIMEOUT>"
    echo "    <HEARTBEAT>500</HEARTBEAT>"
    echo "  </PROPSROW>"
    for group in "$@"; do
      echo "  <PROPSROW DESC=\"CACHEGROUP\">"
      echo "    <GROUP>$group</GROUP>"
      echo "  </PROPSROW>"
    done
    echo "  <PROPSROW DESC=\"LOG\">"
    echo "    <LEVELNAME>warn</LEVELNAME>"
    echo "  </PROPSROW>"
    echo "</PROPSTABLE>"
  } >"$dir/config.xml"
}

# _events_start park DIR park | _events_start cache DIR HOST:PORT: in the background, its pid
# in DIR/park.pid or DIR/cache-HOST:PORT.pid, its output in the matching .log (appended, so a
# restart keeps the first run's log).
_events_start() {
  local kind=$1 dir=$2 name
  if [ "$kind" = park ]; then
    name=park
    "$ev_fourinone" park --config "$dir/config.xml" >>"$dir/$name.log" 2>&1 &
  else
    name=cache-$3
    "$ev_fourinone" cache --config "$dir/config.xml" --server "$3" >>"$dir/$name.log" 2>&1 &
  fi
  echo $! >"$dir/$name.pid"
}

# _events_wait_stat DIR REGEX...: until each REGEX matches a line of `ctl cache stat` (20 s
# at most); the last answer stays in DIR/stat.txt.
_events_wait_stat() {
  local dir=$1 regex all
  shift
  for _ in $(seq 1 200); do
    if "$ev_fourinone" ctl --config "$dir/config.xml" --timeout 1000 cache stat >"$dir/stat.txt" 2>/dev/null; then
      all=1
      for regex in "$@"; do grep -Eq -- "$regex" "$dir/stat.txt" || all=""; done
      [ -n "$all" ] && return 0
    fi
    sleep 0.1
  done
  echo "events: not every one of '$*' in ctl cache stat after 20 s; logs in $dir" >&2
  cat "$dir/stat.txt" >&2
  tail -n 5 "$dir"/*.log >&2
  return 1
}

# _events_run OUT COMMAND...: COMMAND's stdout to OUT (stderr shown), in the background so
# that INT and TERM reach the trap at once; returns its status.
_events_run() {
  local out=$1 rc
  shift
  "$@" >"$out" &
  ev_running=$!
  # 2>/dev/null: bash reports here the server that cache_events killed ("Killed ...").
  wait "$ev_running" 2>/dev/null
  rc=$?
  ev_running=""
  return $rc
}

# _events_stop PIDFILE: TERM, KILL after 5 s, reaped (the servers are children of this shell).
_events_stop() {
  local file=$1 pid state
  [ -s "$file" ] || return 0
  pid=$(cat "$file")
  rm -f "$file"
  kill -TERM "$pid" 2>/dev/null || { wait "$pid" 2>/dev/null; return 0; }
  for _ in $(seq 1 50); do
    state=$(ps -o stat= -p "$pid" 2>/dev/null) || break
    [[ $state == Z* ]] && break
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
}

# _events_stop_all DIR: the cache servers (they leave the park), then the park.
_events_stop_all() {
  local file
  for file in "$1"/cache-*.pid; do [ -e "$file" ] && _events_stop "$file"; done
  _events_stop "$1/park.pid"
}

_events_cleanup() {
  if [ -n "$ev_running" ]; then kill -TERM "$ev_running" 2>/dev/null; wait "$ev_running" 2>/dev/null; fi
  _events_stop_all "$1/failover"
  _events_stop_all "$1/scaleout"
}
