#!/usr/bin/env bash
# The mail-fetch scenario end to end, against a park group that is already running:
#   1. three workers start;
#   2. the contractor starts on 600 mailboxes;
#   3. about a second later one worker is killed with kill -9 and a new one is started;
#   4. the contractor must still finish with every mailbox fetched and checked (exit 0);
#   5. the workers are stopped with SIGTERM and must exit 0.
#
#   bash samples/mail_fetch/run.sh [CONFIG]     (CONFIG defaults to the repository's config.xml)
set -euo pipefail
config=$(realpath "${1:-$(dirname "$0")/../../config.xml}")  # before the cd below
cd "$(dirname "$0")/../.."
demo=build/samples/mail_fetch_demo
logs=$(mktemp -d)
workers=()
contractor=""
cleanup() {
  for p in "${workers[@]}" $contractor; do kill -9 "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

start_worker() {
  $demo worker --config "$config" >"$logs/worker$1.log" 2>&1 &
  workers+=("$!")
  echo "run.sh: started worker $1 (pid $!)"
}

for i in 1 2 3; do start_worker "$i"; done
$demo contractor --config "$config" --mailboxes 600 --workers-expected 3 &
contractor=$!

sleep 1
victim=${workers[0]}
kill -9 "$victim"
wait "$victim" 2>/dev/null || true  # reap it quietly: its death is the point
workers=("${workers[@]:1}")
echo "run.sh: killed worker 1 (pid $victim) with kill -9"
start_worker 4

status=0
wait "$contractor" || status=$?
contractor=""
if [ "$status" -ne 0 ]; then
  echo "run.sh: the contractor failed (exit $status); worker logs:"
  tail -n 20 "$logs"/worker*.log
  exit 1
fi

# Stop the survivors cleanly: SIGTERM ends wait_working, and they must exit 0.
kill -TERM "${workers[@]}"
for p in "${workers[@]}"; do
  if ! wait "$p"; then
    echo "run.sh: worker pid $p did not exit cleanly; logs:"
    tail -n 20 "$logs"/worker*.log
    exit 1
  fi
done
workers=()
rm -rf "$logs"
echo "run.sh: the job completed despite the killed worker; all workers stopped cleanly"
