#!/usr/bin/env bash
# Everything CI checks, cheapest failure first. Run from anywhere: bash scripts/test.sh
#
# The Kafka integration tests start their own brokers (Tansu, see scripts/broker.sh) on
# 127.0.0.1; the broker is built once per machine and cached outside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."

cargo fmt --all --check
# deploy/ cannot run here (no container engine): it is parsed and cross-checked instead.
bash scripts/check-deploy.sh
cargo clippy --workspace --all-targets --locked -- -D warnings
TANSU_BIN=$(bash scripts/broker.sh install)
# The HTML report is checked in a real browser: Debian's chromium, installed if missing.
CHROMIUM=$(bash scripts/chromium.sh)
export CHROMIUM
export TANSU_BIN
# Every rule's own examples; a failing example fails the build.
cargo run --locked --quiet -- rules test
cargo test --locked
