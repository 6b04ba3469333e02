#!/usr/bin/env bash
# The FttpDemo programs end to end, against the park and the fttp servers of CONFIG that are
# already running (`fourinone up --config CONFIG` starts both):
#   roots, operate, write-read, parse, copy (to two names on the second server at once) and
#   blocks (a 64 MiB file written and read back in parallel blocks), each checked by its exit
#   code; then the files it made are removed with `fourinone ctl fttp rm`.
#
#   bash samples/fttp_demo/run.sh [CONFIG]     (CONFIG defaults to the repository's config.xml)
set -euo pipefail
config=$(realpath "${1:-$(dirname "$0")/../../config.xml}")  # before the cd below
cd "$(dirname "$0")/../.."
bin=build/fourinone
demo="build/samples/fttp_demo --config $config"

# The file servers as the park's service registry lists them ("ID ADDRESS roots=...").
mapfile -t servers < <($bin ctl --config "$config" services fttp | awk '{print $2}')
if [ ${#servers[@]} -eq 0 ]; then
  echo "run.sh: no fttp server is registered in the park; start them with fourinone up" >&2
  exit 1
fi
a=${servers[0]}
b=${servers[1]:-$a}
# The first root that is not read-only ("folder NAME size=0", no "read-only").
root=$($demo roots | awk -v a="fttp://$a" '$0 == a " roots:" {mine = 1; next} /^fttp:/ {mine = 0}
  mine && $1 == "folder" && !/read-only/ {print $2; exit}')
if [ -z "$root" ]; then
  echo "run.sh: fttp://$a has no writable root" >&2
  exit 1
fi
base=fttp://$a/$root
cleanup() {
  for f in hello.txt parse.txt big.bin; do $bin ctl --config "$config" fttp rm "$base/$f" 2>/dev/null || true; done
  for f in copy1.txt copy2.txt; do $bin ctl --config "$config" fttp rm "fttp://$b/$root/$f" 2>/dev/null || true; done
}
trap cleanup EXIT

step() { echo; echo "-- fttp_demo $*"; $demo "$@"; }
step roots
step operate "$base"
step write-read "$base/hello.txt"
step parse "$base/parse.txt"
step copy "$base/hello.txt" "fttp://$b/$root/copy1.txt" "fttp://$b/$root/copy2.txt"
echo "read back from $b: $($bin ctl --config "$config" fttp get "fttp://$b/$root/copy2.txt")"
step blocks "$base/big.bin" --mib 64
echo
echo "run.sh: every FttpDemo step passed"
