#!/usr/bin/env bash
# The README's main command: builds Signet and runs its walkthroughs.
set -euo pipefail
cd "$(dirname "$0")"
. .ci/ensure-rust.sh
cargo run --release --locked -p signet-protocol --example walkthrough
echo
cargo run --release --locked -p signet-protocol --example signing
