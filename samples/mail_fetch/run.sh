#!/usr/bin/env bash
# The mail-fetch scenario end to end, against a park group that is already running:
#   1. three workers start;
#   2. the contractor starts on 600 mailboxes, and a second contractor (200 mailboxes) at the
#      same time: it waits for the round lock and runs its round after the first;
#   3. about a second later one worker is killed with kill -9 and a new one is started;
#   4. both contractors must finish with every mailbox fetched and checked (exit 0), and the
#      park's record of rounds (mailfetch/rounds) shows them one after the other;
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
second=""
cleanup() {
  for p in "${workers[@]}" $contractor $second; do kill -9 "$p" 2>/dev/null || true; done
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
sleep 0.2  # so that the first one asks for the lock first (the lock is fair)
$demo contractor --config "$config" --mailboxes 200 --workers-expected 3 >"$logs/second.log" 2>&1 &
second=$!

sleep 1
victim=${workers[0]}
kill -9 "$victim"
wait "$victim" 2>/dev/null || true  # reap it quietly: its death is the point
workers=("${workers[@]:1}")
echo "run.sh: killed worker 1 (pid $victim) with kill -9"
start_worker 4

status=0
wait "$contractor" || status=$?
wait "$second" || status=$?
contractor=""
second=""
sed 's/^/second contractor: /' "$logs/second.log"
if [ "$status" -ne 0 ]; then
  echo "run.sh: a contractor failed (exit $status); worker logs:"
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
echo "run.sh: the last rounds recorded in the park (fenced: '<highest token> <lines>'):"
build/fourinone ctl --config "$config" get mailfetch rounds | tail -n 4
echo "run.sh: the job completed despite the killed worker; all workers stopped cleanly"
