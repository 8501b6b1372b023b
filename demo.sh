#!/usr/bin/env bash
# The README's main command: builds Signet and runs `signet demo`, a federation of real nodes
# on loopback (`./demo.sh --console` keeps two nodes' web consoles running afterwards).
# `./demo.sh walkthroughs` runs the protocol core's two in-memory walkthroughs.
set -euo pipefail
cd "$(dirname "$0")"
. .ci/ensure-rust.sh
if [ "${1:-}" = "walkthroughs" ]; then
    cargo run --release --locked -p signet-protocol --example walkthrough
    echo
    cargo run --release --locked -p signet-protocol --example signing
else
    cargo run --release --locked -p signet-node -- demo "$@"
fi
