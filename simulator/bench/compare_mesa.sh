#!/usr/bin/env bash
# Runs the same Watts cascade model (n = 10,000 nodes, z = 4, phi = 0.18, RUNS cascades from
# random seeds on one exported graph) in signet-sim and in Mesa, and prints the speed ratio.
# Needs a release build (cargo build --release -p signet-sim) and `pip install mesa networkx`.
# Usage: simulator/bench/compare_mesa.sh [RUNS]   (default 50)
set -euo pipefail
cd "$(dirname "$0")"
RUNS="${1:-50}"
ROOT="$(cd ../.. && pwd)"
BIN="${CARGO_TARGET_DIR:-$ROOT/target}/release/signet-sim"
[ -x "$BIN" ] || { echo "build first: cargo build --release -p signet-sim" >&2; exit 1; }
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

"$BIN" export watts-10k.toml --edges "$WORK/edges.csv" --nodes "$WORK/nodes.csv" 2>/dev/null
cat > "$WORK/scenario.toml" <<TOML
name = "bench-watts-10k"
seed = 1
runs = $RUNS
global_fraction = 0.1
[network]
kind = "edge_list"
edges = "edges.csv"
nodes = "nodes.csv"
[model]
kind = "watts"
phi = 0.18
[output]
charts = false
TOML

# signet-sim: whole process (startup, CSV import, all runs, writing outputs), one thread.
start=$(date +%s.%N)
"$BIN" run "$WORK/scenario.toml" --quiet --threads 1 --out "$WORK/out"
end=$(date +%s.%N)
rust_s=$(echo "$end - $start" | bc -l)
rust_stats=$(python3 -c "
import json; s = json.load(open('$WORK/out/summary.json'))['points'][0]['variants'][0]
print(f\"{s['final_fraction']['mean']:.4f} {s['p_global_cascade']:.3f}\")")

# Mesa: time of the runs only (graph loading excluded), one process.
mesa_json=$(python3 mesa_model.py --edges "$WORK/edges.csv" --nodes 10000 --runs "$RUNS" --phi 0.18)
mesa_s=$(python3 -c "import json,sys; print(json.loads(sys.argv[1])['seconds'])" "$mesa_json")

echo "model: Watts cascades, n=10000, z=4, phi=0.18, $RUNS runs on one graph"
echo "signet-sim (1 thread, whole process): ${rust_s} s; mean cascade fraction, P(global) = $rust_stats"
echo "mesa (runs only): ${mesa_s} s; $mesa_json"
python3 -c "print(f'ratio mesa / signet-sim = {float(\"$mesa_s\") / float(\"$rust_s\"):.0f}x')"
