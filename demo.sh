#!/usr/bin/env bash
# The README's main command: builds Signet and runs its main demonstration.
set -euo pipefail
cd "$(dirname "$0")"
if ! command -v cargo >/dev/null; then
  echo "Rust is not installed: installing it with rustup (https://rustup.rs)..." >&2
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs | sh -s -- -y --profile minimal
  # shellcheck disable=SC1091
  . "$HOME/.cargo/env"
fi
cargo run --release --locked -p signet-protocol --example walkthrough
echo
cargo run --release --locked -p signet-protocol --example signing
