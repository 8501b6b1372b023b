#!/usr/bin/env bash
# The README's test command: builds everything and runs every test, doc test and example.
set -euo pipefail
cd "$(dirname "$0")"
command -v cargo >/dev/null || { echo "cargo not found: install Rust from https://rustup.rs first" >&2; exit 1; }
cargo test --workspace --locked "$@"
