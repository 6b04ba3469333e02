# A three-member etcd cluster on 127.0.0.1 for the side-by-side benchmark. Sourced by
# bench/peers.sh after bench/lib.sh (free_port); written for `set -euo pipefail`.
#
#   etcd_start WORK   members m0..m2 in WORK/etcd (data m<i>.data, log <i>.log, pid <i>.pid);
#                     WORK/etcd/start-<i>.sh (re)starts member i on its data dir and prints its
#                     pid. Sets etcd_endpoints="127.0.0.1:C0,127.0.0.1:C1,127.0.0.1:C2".
#   etcd_stop WORK    stops every member named by WORK/etcd/*.pid (TERM, then KILL after 10 s).
#
# Settings are etcd's defaults (fsync on, 100 ms heartbeat, 1 s election timeout).

etcd_bin=${ETCD_BIN:-/usr/bin/etcd}
etcdctl_bin=${ETCDCTL_BIN:-/usr/bin/etcdctl}

etcd_start() {
  local work=$1
  local dir
  dir=$(mkdir -p "$work/etcd" && cd "$work/etcd" && pwd)
  # Six distinct free ports: client and peer port of each member.
  local -a ports=()
  local port p dup
  while ((${#ports[@]} < 6)); do
    port=$(free_port)
    dup=0
    for p in "${ports[@]}"; do [[ $p == "$port" ]] && dup=1; done
    ((dup)) || ports+=("$port")
  done
  local -a client=("${ports[0]}" "${ports[1]}" "${ports[2]}")
  local -a peer=("${ports[3]}" "${ports[4]}" "${ports[5]}")
  local cluster="m0=http://127.0.0.1:${peer[0]},m1=http://127.0.0.1:${peer[1]},m2=http://127.0.0.1:${peer[2]}"
  local token
  token="bench-$$-$RANDOM-$(date +%s%N)"
  local i
  for i in 0 1 2; do
    cat >"$dir/start-$i.sh" <<EOF
#!/bin/sh
# Starts etcd member m$i in the background and prints its pid. Run again after the member
# stopped, it restarts it on its data dir (etcd then ignores the --initial-cluster flags).
# Plain sh: peer_bench runs it with \`sh start-$i.sh\`.
set -eu
"$etcd_bin" --name m$i --data-dir "$dir/m$i.data" \\
  --listen-client-urls http://127.0.0.1:${client[i]} \\
  --advertise-client-urls http://127.0.0.1:${client[i]} \\
  --listen-peer-urls http://127.0.0.1:${peer[i]} \\
  --initial-advertise-peer-urls http://127.0.0.1:${peer[i]} \\
  --initial-cluster "$cluster" \\
  --initial-cluster-state new --initial-cluster-token "$token" \\
  </dev/null >>"$dir/$i.log" 2>&1 &
echo \$! >"$dir/$i.pid"
echo \$!
EOF
    chmod +x "$dir/start-$i.sh"
  done
  for i in 0 1 2; do "$dir/start-$i.sh" >/dev/null; done
  etcd_endpoints="127.0.0.1:${client[0]},127.0.0.1:${client[1]},127.0.0.1:${client[2]}"

  # `endpoint health` does a quorum read on every member: all up and a leader elected.
  local until=$((SECONDS + 20))
  while ((SECONDS < until)); do
    if "$etcdctl_bin" --endpoints="$etcd_endpoints" --dial-timeout=1s --command-timeout=1s \
        endpoint health >/dev/null 2>&1; then
      return 0
    fi
    for i in 0 1 2; do
      if ! _runs_from "$(cat "$dir/$i.pid")" "$dir"; then
        echo "etcd member m$i exited; the end of $dir/$i.log:" >&2
        tail -n 20 "$dir/$i.log" >&2 || true
        etcd_stop "$work"
        return 1
      fi
    done
    sleep 0.5
  done
  echo "etcd cluster $etcd_endpoints has no leader after 20 s (logs in $dir)" >&2
  etcd_stop "$work"
  return 1
}

# etcd_stop WORK: stops every member started (or restarted) there.
etcd_stop() {
  stop_pid_files "$1/etcd" 10
}
