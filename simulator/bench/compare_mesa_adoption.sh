#!/usr/bin/env bash
# Runs the e-signature adoption model (federated, 10,000 firms, 100 steps, RUNS runs) in
# signet-sim and in its Mesa re-implementation (mesa_adoption.py) on the same network and
# firms, and prints the wall times, their ratio, and the largest difference between the two
# mean adoption curves (an independent check of the model's implementation).
# Needs a release build and `pip install mesa networkx`.
# Usage: simulator/bench/compare_mesa_adoption.sh [RUNS]   (default 20)
set -euo pipefail
cd "$(dirname "$0")"
RUNS="${1:-20}"
ROOT="$(cd ../.. && pwd)"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/signet-sim"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p signet-sim" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$BIN" export adoption-10k.toml --edges "$WORK/edges.csv" --deployment federated --firms "$WORK/firms.csv" 2>/dev/null

start=$(date +%s.%N)
"$BIN" run adoption-10k.toml --quiet --threads 1 --runs "$RUNS" --out "$WORK/out"
end=$(date +%s.%N)
rust_s=$(echo "$end - $start" | bc -l)

python3 mesa_adoption.py --edges "$WORK/edges.csv" --firms "$WORK/firms.csv" --runs "$RUNS" --steps 100 > "$WORK/mesa.json"

python3 - "$WORK/out/summary.json" "$WORK/mesa.json" "$rust_s" "$RUNS" <<'PY'
import json, sys
rust = json.load(open(sys.argv[1]))["points"][0]["variants"][0]["mean_adoption"]
mesa = json.load(open(sys.argv[2]))
rust_s, runs = float(sys.argv[3]), sys.argv[4]
diff = max(abs(a - b) for a, b in zip(rust, mesa["mean_adoption"]))
pick = lambda c: " ".join(f"{c[t]:.3f}" for t in (11, 23, 47, 99))
print(f"model: e-signature adoption, federated, 10000 firms, 100 steps, {runs} runs")
print(f"signet-sim (1 thread, whole process): {rust_s:.3f} s; mean adoption at steps 12/24/48/100: {pick(rust)}")
print(f"{mesa['implementation']} (runs only): {mesa['seconds']:.3f} s; mean adoption at steps 12/24/48/100: {pick(mesa['mean_adoption'])}")
print(f"largest difference between the mean curves: {diff:.4f}")
print(f"ratio mesa / signet-sim = {mesa['seconds'] / rust_s:.0f}x")
PY
