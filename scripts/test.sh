#!/usr/bin/env bash
# Everything CI checks, cheapest failure first. Run from anywhere: bash scripts/test.sh
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
cargo test --locked
# Every rule's own examples; a failing example fails the build.
cargo run --locked --quiet -- rules test
