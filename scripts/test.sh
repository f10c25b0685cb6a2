#!/usr/bin/env bash
# Everything CI checks, cheapest failure first. Run from anywhere: bash scripts/test.sh
#
# The Kafka integration tests start their own brokers (Tansu, see scripts/broker.sh) on
# 127.0.0.1; the broker is built once per machine and cached outside the checkout. The case
# store tests start their own PostgreSQL clusters (scripts/postgres.sh).
set -euo pipefail
cd "$(dirname "$0")/.."

# A full build and test run needs a few GB under target/; a disk that fills mid-build
# fails deep inside rustc with a message that names no cause, so say it here first.
need_kib=$((4 * 1024 * 1024))
free_kib=$(df -Pk . | awk 'NR == 2 { print $4 }')
if [ "${free_kib:-0}" -lt "$need_kib" ]; then
  echo "scripts/test.sh: only $((free_kib / 1024)) MiB free on $(df -P . | awk 'NR == 2 { print $6 }');" \
    "the build and tests need about 4 GiB" >&2
  exit 1
fi

cargo fmt --all --check
cargo clippy --workspace --all-targets --locked -- -D warnings
TANSU_BIN=$(bash scripts/broker.sh install)
# The HTML report and the console are checked in a real browser: Debian's chromium and
# chromedriver, installed if missing.
CHROMIUM=$(bash scripts/chromium.sh)
export CHROMIUM
# The case store is tested on PostgreSQL as well as SQLite: Debian's server, installed if
# missing; each test starts a throwaway cluster of its own.
XUNCHA_PG_BIN=$(bash scripts/postgres.sh)
export XUNCHA_PG_BIN
export TANSU_BIN
# Every rule's own examples; a failing example fails the build.
cargo run --locked --quiet -- rules test
cargo test --locked
