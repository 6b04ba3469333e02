# Sourced by bench/cache.sh: starts and stops our cache for the side-by-side run — one park
# server and one cache group of a primary and one backup (replication on), all on free
# 127.0.0.1 ports with everything under WORK. Needs bench/lib.sh (free_port) sourced first.

# start_fourinone_cache WORK: writes WORK/config.xml, starts the park and the two cache
# servers (CACHE/THREADS from $fourinone_threads, default 1), and waits until the primary has
# its backup in sync. Sets fourinone_config.
start_fourinone_cache() {
  local work=$1 park_port a b
  park_port=$(free_port) && a=$(free_port) && b=$(free_port) || return 1
  mkdir -p "$work"
  cat >"$work/config.xml" <<XML
<PROPSTABLE>
  <PROPSROW DESC="PARK">
    <SERVERS>127.0.0.1:$park_port</SERVERS>
    <DATADIR>$work/data</DATADIR>
    <SESSIONTIMEOUT>2000</SESSIONTIMEOUT>
    <HEARTBEAT>500</HEARTBEAT>
  </PROPSROW>
  <PROPSROW DESC="CACHE">
    <MAXMEMORY>2G</MAXMEMORY>
    <THREADS>${fourinone_threads:-1}</THREADS>
  </PROPSROW>
  <PROPSROW DESC="CACHEGROUP">
    <GROUP>a=127.0.0.1:$a,127.0.0.1:$b</GROUP>
  </PROPSROW>
  <PROPSROW DESC="LOG">
    <LEVELNAME>warn</LEVELNAME>
  </PROPSROW>
</PROPSTABLE>
XML
  fourinone_config="$work/config.xml"
  "$fourinone_bin" park --config "$work/config.xml" >"$work/park.log" 2>&1 &
  echo $! >"$work/park.pid"
  "$fourinone_bin" cache --config "$work/config.xml" --server "127.0.0.1:$a" >"$work/cache-a.log" 2>&1 &
  echo $! >"$work/cache-a.pid"
  "$fourinone_bin" cache --config "$work/config.xml" --server "127.0.0.1:$b" >"$work/cache-b.log" 2>&1 &
  echo $! >"$work/cache-b.pid"
  for _ in $(seq 1 200); do
    if "$fourinone_bin" ctl --config "$work/config.xml" --timeout 1000 cache stat 2>/dev/null |
        grep -q ' primary .*backups_in_sync 1'; then
      return 0
    fi
    sleep 0.1
  done
  echo "fourinone cache did not start; logs in $work" >&2
  tail -n 5 "$work"/*.log >&2
  return 1
}

# stop_fourinone_cache WORK: cache servers first (they leave the park), then the park.
stop_fourinone_cache() {
  local work=$1 file pid
  for file in "$work/cache-a.pid" "$work/cache-b.pid" "$work/park.pid"; do
    [ -e "$file" ] || continue
    pid=$(cat "$file")
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null || true
    rm -f "$file"
  done
}
