#!/usr/bin/env bash
# The README's test command: builds everything and runs every unit, integration and doc test.
set -euo pipefail
cd "$(dirname "$0")"
. .ci/ensure-rust.sh
. .ci/ensure-browser.sh
. .ci/ensure-pdf-tools.sh
. .ci/ensure-postgres.sh
log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --locked "$@" 2>&1 | tee "$log"
# A smoke run of the load generator (debug build, two seconds each; never a timing check):
# it must run the ceiling and real nodes end to end.
cargo run -q --locked -p signet-node --example load -- 2 4 2>&1 | tee -a "$log"
# The same with every node its own `signet run` process, driven over the HTTP API.
cargo build -q --locked -p signet-node --bin signet
cargo run -q --locked -p signet-node --example load -- 2 4 --processes 2>&1 | tee -a "$log"
# The CDDL check is a crate of its own (see the root Cargo.toml's `exclude`).
cargo test --manifest-path tests/cddl/Cargo.toml --locked --target-dir target/cddl "$@" 2>&1 | tee -a "$log"
# One closing line for the whole run (cargo prints one per test binary).
awk '/^test result:/ { p += $4; f += $6 } END { printf "tests: %d passed, %d failed\n", p, f }' "$log"
