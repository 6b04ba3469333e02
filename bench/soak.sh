#!/usr/bin/env bash
# The soak of issue 17: a three-server park group (fsync on, the session settings of the
# shipped config.xml) on free loopback ports in a scratch folder, 1,000 client sessions held
# on it (a heartbeat node, a watch and a create every 10 s each) while one server is killed
# with SIGKILL every minute, round-robin (the leader too when its turn comes), and restarted
# 5 s later. build/bench/soak_bench drives the sessions and the kills; see its top comment.
#
#   bash bench/soak.sh [--short] [--duration S] [--sessions N] [--kill-every S]
#
# Default: 30 minutes, written to the "soak" section of bench/RESULTS.md. --short: 2 minutes
# with a kill every 30 s, for CI; it prints the figures and leaves RESULTS.md alone.
# Exit status 3 when a session expired wrongly or an acknowledged write was lost.
set -euo pipefail
cd "$(dirname "$0")/.."
source bench/lib.sh
command_line="bash bench/soak.sh${*:+ $*}"
duration=1800
kill_every=60
sessions=1000
write_results=1
while [ $# -gt 0 ]; do
  case $1 in
    --short) duration=120; kill_every=30; write_results="" ;;
    --duration) duration=$2; shift ;;
    --sessions) sessions=$2; shift ;;
    --kill-every) kill_every=$2; shift ;;
    *) echo "usage: bash bench/soak.sh [--short] [--duration S] [--sessions N] [--kill-every S]" >&2; exit 2 ;;
  esac
  shift
done
started=$(date +%s)

build_bench_targets /tmp/fourinone-soak-build.log fourinone_cli soak_bench
bin=$(pwd)/build/fourinone

work=$(mktemp -d)
cleanup() {
  stop_pid_files "$work" 5 || true
  [ -n "${KEEP_WORK:-}" ] && echo "kept $work" || rm -rf "$work"
}
trap cleanup EXIT

servers=""
for _ in 1 2 3; do servers+="${servers:+,}127.0.0.1:$(free_port)"; done
cat >"$work/config.xml" <<XML
<?xml version="1.0" encoding="UTF-8"?>
<PROPSTABLE>
  <PROPSROW DESC="PARK">
    <SERVERS>$servers</SERVERS>
    <DATADIR>$work/data</DATADIR>
    <SESSIONTIMEOUT>6000</SESSIONTIMEOUT>
    <HEARTBEAT>1000</HEARTBEAT>
    <MAXDELAY>3000</MAXDELAY>
  </PROPSROW>
  <PROPSROW DESC="LOG">
    <LEVELNAME>info</LEVELNAME>
  </PROPSROW>
</PROPSTABLE>
XML

# Starts one member in the background, keeps its pid in WORK/HOST:PORT.pid and prints it
# (soak_bench restarts killed members with it; they are then nobody's children here).
cat >"$work/start_member.sh" <<SCRIPT
#!/usr/bin/env bash
"$bin" park --config "$work/config.xml" --server "\$1" >>"$work/\$1.log" 2>&1 &
echo \$! >"$work/\$1.pid"
echo \$!
SCRIPT
chmod +x "$work/start_member.sh"
pids=""
for s in ${servers//,/ }; do pids+="${pids:+,}$s=$("$work/start_member.sh" "$s")"; done
wait_for_leader "$bin" "$work/config.xml"

echo "park group of 3 ($servers), fsync on; $sessions sessions for $duration s, a kill every $kill_every s"
status=0
build/bench/soak_bench --config "$work/config.xml" --pids "$pids" --restart "$work/start_member.sh %s" \
  --sessions "$sessions" --duration "$duration" --kill-every "$kill_every" --rss-log "$work/rss.csv" \
  | tee "$work/soak.out" || status=$?
grep -q '^== summary' "$work/soak.out" || { echo "soak_bench ended without a summary (status $status)" >&2; exit 1; }

# Each server's VmRSS every 5 minutes (every 30 s in a short run): the sampler's CSV.
every=$(( duration >= 600 ? 300 : 30 ))
rss_table=$work/rss.md
{
  echo "| s | $(echo "${servers//,/ | }") |"
  echo "|---|---|---|---|"
  awk -F, -v every="$every" -v servers="$servers" '
    BEGIN { n = split(servers, order, ",") }
    {
      t = $1 - $1 % every
      if ((t, $2) in rss) next
      rss[t, $2] = $5 == 0 ? "down" : sprintf("%.1f MiB (%s%d s)", $5 / 1024, $6 == "L" ? "leader, " : "", $4)
      times[t] = 1
    }
    END {
      for (t in times) list[++m] = t + 0
      for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (list[j] < list[i]) { x = list[i]; list[i] = list[j]; list[j] = x }
      for (i = 1; i <= m; i++) {
        line = "| " list[i]
        for (k = 1; k <= n; k++) line = line " | " ((list[i], order[k]) in rss ? rss[list[i], order[k]] : "-")
        print line " |"
      }
    }' "$work/rss.csv"
} >"$rss_table"
echo
echo "VmRSS every $every s:"
cat "$rss_table"

[ -n "$write_results" ] || exit "$status"
section=$work/section.md
{
  echo "# soak: $sessions sessions while a server is killed every $kill_every s"
  echo
  echo "Written by \`$command_line\` on $(date -u '+%Y-%m-%d %H:%M') UTC in $(( $(date +%s) - started )) s (build and run)."
  echo "A three-server park group on 127.0.0.1 (fsync on; SESSIONTIMEOUT 6000, HEARTBEAT 1000, MAXDELAY"
  echo "3000 as in config.xml). $sessions sessions, each a Park client with its own connection and session,"
  echo "hold a heartbeat node and a watch and create a unique node every 10 s; every $kill_every s one server"
  echo "gets SIGKILL (round-robin, the leader when its turn comes) and is restarted 5 s later. A session"
  echo "expired wrongly is one that saw its session expire, got session_expired, or whose heartbeat node"
  echo "was gone in a check (every 30 s and at the end) although its client kept heartbeating. Every"
  echo "acknowledged create is read back at the end. What is measured:"
  echo "[bench/soak_bench.cpp](soak_bench.cpp)."
  echo
  print_machine_section
  echo "## Results"
  echo
  sed -n '/^== summary/,$p' "$work/soak.out" | sed 1d
  echo
  echo "Memory: a restarted server starts small again, so \"at end\" is a process at most three kill"
  echo "periods old, and the leader holds every client connection, so a server's VmRSS moves with its"
  echo "role; the VmRSS before each kill compares processes of the same age across the run. The store"
  echo "grows with the acknowledged creates (kept, to be read back)."
  echo
  echo "VmRSS every $every s (the sampler's CSV; in brackets: leader, and that process's age):"
  echo
  cat "$rss_table"
  echo
  echo "## Raw output"
  echo
  echo '```'
  sed '/^== summary/,$d' "$work/soak.out"
  echo '```'
} >"$section"
write_results_section soak "$section"
echo "written to the soak section of bench/RESULTS.md"
exit "$status"
