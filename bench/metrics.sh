#!/usr/bin/env bash
# What the HTTP port costs: one park server (fsync on) with PARK/HTTP, measured by park_bench
# ROUNDS times each without scraping, beside a curl loop against a closed port (what the
# scraper process alone costs), and while that loop fetches /metrics every 100 ms (150x
# Prometheus's default 15 s interval), in turn so that drift hits all alike; then
# the time one scrape and one status page take, idle and under load (curl, 200 each).
# Prints medians and writes the "metrics" section of bench/RESULTS.md.
#
#   bash bench/metrics.sh [--rounds N] [--seconds S]
set -euo pipefail
cd "$(dirname "$0")/.."
rounds=3
seconds=5
while [ $# -gt 0 ]; do
  case $1 in
    --rounds) rounds=$2; shift 2 ;;
    --seconds) seconds=$2; shift 2 ;;
    *) echo "usage: bash bench/metrics.sh [--rounds N] [--seconds S]" >&2; exit 2 ;;
  esac
done
bin=build/fourinone
[ -x "$bin" ] && [ -x build/bench/park_bench ] || { echo "build first: bash .ci/build" >&2; exit 1; }
command -v curl >/dev/null || { echo "curl is needed (apt-get install curl)" >&2; exit 1; }
source bench/lib.sh

work=$(mktemp -d)
park_pid=""
scraper_pid=""
cleanup() {
  if [ -n "$scraper_pid" ]; then kill "$scraper_pid" 2>/dev/null || true; wait "$scraper_pid" 2>/dev/null || true; fi
  if [ -n "$park_pid" ] && kill -0 "$park_pid" 2>/dev/null; then kill -TERM "$park_pid"; wait "$park_pid" || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

http_port=$(free_port)
start_single_park "$bin" "$work" "<HTTP>127.0.0.1:$http_port</HTTP>"

# timings URL FILE: the seconds 200 fetches of URL took, one per line.
timings() {
  for _ in $(seq 1 200); do curl -s -o /dev/null -w '%{time_total}\n' "$1"; done >"$2"
}
# p50_p99_ms FILE: "p50 X ms, p99 Y ms" of a file of seconds.
p50_p99_ms() {
  sort -g "$1" | awk '{ v[NR] = $1 } END { printf "p50 %.2f ms, p99 %.2f ms", v[int(NR * 0.5)] * 1000, v[int(NR * 0.99)] * 1000 }'
}
# rate FILE ROW: the ops/s of park_bench's row starting with ROW (write or read).
rate() { awk -v row="$2 (" 'index($0, row) == 1 { print substr($0, 35, 12) + 0; exit }' "$1"; }

echo "park server 127.0.0.1:$park_port, /metrics on 127.0.0.1:$http_port; $(nproc) cores; $rounds rounds of $seconds s"
timings "http://127.0.0.1:$http_port/metrics" "$work/scrape-idle.txt"
timings "http://127.0.0.1:$http_port/" "$work/page-idle.txt"
size=$(curl -s "http://127.0.0.1:$http_port/metrics" | wc -c)

# scrape_loop URL: fetches URL every 100 ms until killed (a process of its own: scraper_pid).
scrape_loop() {
  ( while :; do curl -s -o /dev/null "$1" || true; sleep 0.1; done ) &
  scraper_pid=$!
}
# The same loop against a closed port: what the scraper itself (a curl process every 100 ms)
# costs this 2-core machine, with no server work at all.
closed_port=$(free_port)
for r in $(seq 1 "$rounds"); do
  build/bench/park_bench --config "$work/config.xml" --seconds "$seconds" --latency-ops 500 >"$work/plain$r.txt"
  scrape_loop "http://127.0.0.1:$closed_port/"
  build/bench/park_bench --config "$work/config.xml" --seconds "$seconds" --latency-ops 500 >"$work/closed$r.txt"
  kill "$scraper_pid"; wait "$scraper_pid" 2>/dev/null || true; scraper_pid=""
  scrape_loop "http://127.0.0.1:$http_port/metrics"
  build/bench/park_bench --config "$work/config.xml" --seconds "$seconds" --latency-ops 500 >"$work/scraped$r.txt"
  kill "$scraper_pid"; wait "$scraper_pid" 2>/dev/null || true; scraper_pid=""
  echo "round $r: writes/s $(rate "$work/plain$r.txt" write) alone, $(rate "$work/closed$r.txt" write) beside curl to a" \
       "closed port, $(rate "$work/scraped$r.txt" write) scraped; reads/s $(rate "$work/plain$r.txt" read)," \
       "$(rate "$work/closed$r.txt" read), $(rate "$work/scraped$r.txt" read)"
done
# Scrapes while park_bench writes.
build/bench/park_bench --config "$work/config.xml" --seconds 30 --latency-ops 10 >/dev/null &
bench_pid=$!
sleep 1
timings "http://127.0.0.1:$http_port/metrics" "$work/scrape-load.txt"
wait "$bench_pid" || true

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }
figure() { for r in $(seq 1 "$rounds"); do rate "$work/$1$r.txt" "$2"; done | median; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", a / b }'; }
plain_w=$(figure plain write); closed_w=$(figure closed write); scraped_w=$(figure scraped write)
plain_r=$(figure plain read); closed_r=$(figure closed read); scraped_r=$(figure scraped read)

section=$(mktemp)
{
  echo "# The HTTP port: what /metrics costs"
  echo
  echo "\`bash bench/metrics.sh --rounds $rounds --seconds $seconds\`, $(date -u +%Y-%m-%d)."
  echo
  print_machine_section
  echo "One park server, fsync on, PARK/HTTP set. park_bench's writes and linearizable reads (64 in"
  echo "flight, 100-byte values), $rounds rounds of each, in turn; medians:"
  echo
  echo "| | writes/s | reads/s |"
  echo "|---|---|---|"
  echo "| no scraper | $plain_w | $plain_r |"
  echo "| curl every 100 ms to a closed port (the scraper's own cost) | $closed_w ($(ratio "$closed_w" "$plain_w")x) | $closed_r ($(ratio "$closed_r" "$plain_r")x) |"
  echo "| /metrics fetched every 100 ms | $scraped_w ($(ratio "$scraped_w" "$plain_w")x) | $scraped_r ($(ratio "$scraped_r" "$plain_r")x) |"
  echo
  echo "What the server spends on scrapes is the difference between the last two rows; the"
  echo "curl processes themselves take the rest from the 2 cores the bench client and the server share."
  echo
  echo "One fetch with curl, 200 each ($size bytes of metrics):"
  echo
  echo "| | time |"
  echo "|---|---|"
  echo "| /metrics, idle server | $(p50_p99_ms "$work/scrape-idle.txt") |"
  echo "| status page /, idle server (a single server: no peers to ask) | $(p50_p99_ms "$work/page-idle.txt") |"
  echo "| /metrics while park_bench writes | $(p50_p99_ms "$work/scrape-load.txt") |"
} >"$section"
cat "$section"
write_results_section metrics "$section"
rm -f "$section"
