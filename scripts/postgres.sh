#!/usr/bin/env bash
# PostgreSQL server binaries for the case-store tests (crates/xuncha-cases/tests/store.rs
# and the team filing tests): installs Debian's `postgresql` package when no initdb is
# found, then prints the folder of its binaries. The tests start their own throwaway
# clusters from it, in temporary folders on free 127.0.0.1 ports, as an unprivileged user.
#
#   bash scripts/postgres.sh        install what is missing; prints /usr/lib/postgresql/N/bin
set -euo pipefail

find_bin() {
    ls -d /usr/lib/postgresql/*/bin 2>/dev/null | while read -r d; do
        [ -x "$d/initdb" ] && echo "$d"
    done | sort -V | tail -n 1
}

BIN=$(find_bin)
if [ -z "$BIN" ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    if ! $SUDO apt-get install -y --no-install-recommends postgresql >&2; then
        $SUDO apt-get update >&2
        $SUDO apt-get install -y --no-install-recommends postgresql >&2
    fi
    BIN=$(find_bin)
fi
[ -n "$BIN" ] || { echo "scripts/postgres.sh: no initdb after installing postgresql" >&2; exit 1; }
"$BIN/postgres" --version >&2
echo "$BIN"
