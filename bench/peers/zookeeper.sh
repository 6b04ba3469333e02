# A 3-server ZooKeeper ensemble on 127.0.0.1 for peer_bench, from the Debian `zookeeper`
# package (jars in /usr/share/java). Sourced by bench/peers.sh after bench/lib.sh (free_port);
# works under `set -euo pipefail`.
#
#   zk_start WORK   starts servers 0, 1, 2 (files in WORK/zk), waits for a leader, and sets
#                   zk_endpoints="127.0.0.1:C0,127.0.0.1:C1,127.0.0.1:C2".
#   zk_stop WORK    stops every server whose pid is in WORK/zk/*.pid.
#
# Server i (0..2) has ZooKeeper id i+1 (myid 0 is not a valid server id). WORK/zk/start-<i>.sh
# (re)starts server i on its data and prints its pid, e.g. after a kill -9 in a failover test.

zk_jars=(zookeeper zookeeper-jute slf4j-api slf4j-log4j12 log4j-1.2 netty-buffer netty-codec
  netty-common netty-handler netty-resolver netty-transport netty-transport-native-epoll
  netty-transport-native-unix-common jackson-annotations jackson-core jackson-databind
  metrics-core snappy-java commons-cli commons-io)

# zk_srvr PORT: what the server on PORT answers to the four-letter word "srvr" (empty if none).
zk_srvr() {
  # shellcheck disable=SC2016 # $1 is expanded by the inner bash
  timeout 2 bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$1" && printf srvr >&3 && cat <&3' _ "$1" 2>/dev/null || true
}

zk_start() {
  local work=$1 dir=$1/zk
  local java=${JAVA:-java} classpath="" jar i
  for jar in "${zk_jars[@]}"; do
    if [[ ! -e /usr/share/java/$jar.jar ]]; then
      echo "zk_start: /usr/share/java/$jar.jar missing (apt-get install zookeeper)" >&2
      return 1
    fi
    classpath+="${classpath:+:}/usr/share/java/$jar.jar"
  done
  mkdir -p "$dir"

  # Nine distinct free ports: client, quorum and election port of each server.
  local -a ports=()
  local port
  while ((${#ports[@]} < 9)); do
    port=$(free_port)
    if [[ " ${ports[*]} " != *" $port "* ]]; then ports+=("$port"); fi
  done
  local -a client=("${ports[0]}" "${ports[1]}" "${ports[2]}")
  local servers=""
  for i in 0 1 2; do
    servers+="server.$((i + 1))=127.0.0.1:${ports[$((3 + i))]}:${ports[$((6 + i))]}"$'\n'
  done

  for i in 0 1 2; do
    mkdir -p "$dir/data$i"
    echo $((i + 1)) >"$dir/data$i/myid"
    # tickTime=500 ms: sessions may be as short as 2 x tickTime, so the benchmark's 2 s
    # session timeout is accepted (with the usual 2000 the minimum would be 4 s), and the
    # leader checks for expired sessions every tick (0.5 s), so an ephemeral node goes within
    # about 0.5 s of its session's timeout. initLimit/syncLimit are in ticks (10 s / 5 s).
    # forceSync (fsync of the transaction log before acking) and the snapshot/autopurge
    # settings are left at their defaults.
    cat >"$dir/zoo$i.cfg" <<EOF
tickTime=500
initLimit=20
syncLimit=10
dataDir=$dir/data$i
clientPort=${client[$i]}
clientPortAddress=127.0.0.1
4lw.commands.whitelist=srvr,ruok,stat,mntr
admin.enableServer=false
$servers
EOF
    cat >"$dir/log4j-$i.properties" <<EOF
log4j.rootLogger=WARN, FILE
log4j.appender.FILE=org.apache.log4j.FileAppender
log4j.appender.FILE.File=$dir/$i.log
log4j.appender.FILE.Append=true
log4j.appender.FILE.layout=org.apache.log4j.PatternLayout
log4j.appender.FILE.layout.ConversionPattern=%d{ISO8601} %-5p [%t:%C{1}@%L] - %m%n
EOF
    # POSIX sh: peer_bench runs it with `sh start-<i>.sh` after killing server i.
    cat >"$dir/start-$i.sh" <<EOF
#!/bin/sh
# (Re)starts ZooKeeper server $i (id $((i + 1))) on its data; prints its pid.
set -eu
dir='$dir'
if [ -s "\$dir/$i.pid" ]; then
  old=\$(cat "\$dir/$i.pid")
  if grep -qF "\$dir/zoo$i.cfg" "/proc/\$old/cmdline" 2>/dev/null; then
    kill -TERM "\$old" 2>/dev/null || true
    n=0
    while [ \$n -lt 50 ] && grep -qF "\$dir/zoo$i.cfg" "/proc/\$old/cmdline" 2>/dev/null; do sleep 0.1; n=\$((n + 1)); done
    kill -KILL "\$old" 2>/dev/null || true
  fi
fi
'$java' -cp '$classpath' -Dlog4j.configuration='file:$dir/log4j-$i.properties' \\
  -Dzookeeper.log.dir='$dir' -Dzookeeper.jmx.log4j.disable=true \\
  org.apache.zookeeper.server.quorum.QuorumPeerMain "\$dir/zoo$i.cfg" >>"\$dir/$i.out" 2>&1 </dev/null &
echo \$! >"\$dir/$i.pid"
echo \$!
EOF
    chmod +x "$dir/start-$i.sh"
  done

  for i in 0 1 2; do sh "$dir/start-$i.sh" >/dev/null; done

  # Up when one server is the leader and the other two follow it (60 s at most).
  local answer leaders serving pid
  for _ in $(seq 1 120); do
    sleep 0.5
    leaders=0 serving=0
    for i in 0 1 2; do
      pid=$(cat "$dir/$i.pid")
      if ! grep -qF "$dir/zoo$i.cfg" "/proc/$pid/cmdline" 2>/dev/null; then
        echo "zk_start: ZooKeeper server $i exited; end of $dir/$i.out and $dir/$i.log:" >&2
        tail -n 20 "$dir/$i.out" "$dir/$i.log" >&2 2>/dev/null || true
        zk_stop "$work"
        return 1
      fi
      answer=$(zk_srvr "${client[$i]}")
      if [[ $answer == *"Mode: leader"* ]]; then leaders=$((leaders + 1)); fi
      if [[ $answer == *"Mode: leader"* || $answer == *"Mode: follower"* ]]; then serving=$((serving + 1)); fi
    done
    if ((leaders == 1 && serving == 3)); then
      # shellcheck disable=SC2034 # for the caller
      zk_endpoints="127.0.0.1:${client[0]},127.0.0.1:${client[1]},127.0.0.1:${client[2]}"
      return 0
    fi
  done
  echo "zk_start: the ZooKeeper ensemble did not elect a leader with all 3 servers serving within 60 s (logs in $dir)" >&2
  zk_stop "$work"
  return 1
}

zk_stop() {
  stop_pid_files "$1/zk" 5
}
