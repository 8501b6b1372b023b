#!/usr/bin/env bash
# The BENCHMARKS.md performance benchmark: generate the 1,000,000-firm tiered network
# (~5.1 M edges) and run 100 steps of the federated model, REPEAT times, reporting wall time
# and peak resident memory from /usr/bin/time -v. Then the same with steps = 0, which
# measures network generation and set-up alone.
# Usage: simulator/bench/national.sh [REPEAT]   (default 5; needs a release build)
set -euo pipefail
cd "$(dirname "$0")/.."
REPEAT="${1:-5}"
BIN="${CARGO_TARGET_DIR:-$(cd .. && pwd)/target}/release/signet-sim"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p signet-sim" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT
sed 's/^steps = 100/steps = 0/' scenarios/national.toml > "$WORK/national-0-steps.toml"
measure() {
  /usr/bin/time -v "$BIN" run "$1" --quiet --out "$WORK/out" 2> "$WORK/time.txt"
  wall=$(grep "Elapsed (wall clock)" "$WORK/time.txt" | awk '{print $NF}')
  rss=$(grep "Maximum resident set size" "$WORK/time.txt" | awk '{print $NF}')
  echo "$2: wall ${wall} (m:ss), peak RSS $((rss / 1024)) MiB"
}
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | xargs), load $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq "$REPEAT"); do measure scenarios/national.toml "generate + 100 federated steps"; done
for i in $(seq "$REPEAT"); do measure "$WORK/national-0-steps.toml" "generate + set-up only"; done
cut -d, -f3-12 "$WORK/out/runs.csv" | head -1
"$BIN" run scenarios/national.toml --quiet --out "$WORK/out" && cut -d, -f3-12 "$WORK/out/runs.csv" | tail -1
