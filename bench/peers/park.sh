# Sourced by bench/peers.sh (after bench/lib.sh): starts and stops a three-server park group
# the way zookeeper.sh and etcd.sh do for theirs. Default settings: fsync on every write.

# park_start WORK BIN: a group on free loopback ports with its data in WORK/park. Writes
# WORK/park/start-<i>.sh (starts server i in the background, writes <i>.pid, prints the pid;
# run again, it restarts the server on its data), starts the three, waits for a leader and
# sets park_endpoints.
park_start() {
  local work=$1 bin=$2 dir=$1/park servers="" i
  mkdir -p "$dir"
  for i in 0 1 2; do servers+="${servers:+,}127.0.0.1:$(free_port)"; done
  sed -e "s|<SERVERS>[^<]*</SERVERS>|<SERVERS>$servers</SERVERS>|" \
      -e "s|<DATADIR>[^<]*</DATADIR>|<DATADIR>$dir/data</DATADIR>|" config.xml >"$dir/config.xml"
  local server_list=(${servers//,/ })
  for i in 0 1 2; do
    cat >"$dir/start-$i.sh" <<SCRIPT
#!/bin/sh
"$bin" park --config "$dir/config.xml" --server "${server_list[$i]}" >>"$dir/$i.log" 2>&1 &
echo \$! >"$dir/$i.pid"
echo \$!
SCRIPT
    sh "$dir/start-$i.sh" >/dev/null
  done
  wait_for_leader "$bin" "$dir/config.xml" || { echo "park: no leader; see $dir/*.log" >&2; return 1; }
  park_endpoints=$servers
}

# park_stop WORK: TERM, then KILL after 5 s, every server started (or restarted) there.
park_stop() {
  stop_pid_files "$1/park" 5
}
