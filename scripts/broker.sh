#!/usr/bin/env bash
# The Kafka-protocol broker the tests run against: Tansu, built with its SQLite storage
# engine (which keeps data and committed offsets across a broker restart).
#
#   scripts/broker.sh install             build Tansu once per machine (about 15 minutes on
#                                         two cores) into the cache; print its path
#   scripts/broker.sh path                print the path of the cached binary
#   scripts/broker.sh start PORT DIR      start a broker on 127.0.0.1:PORT storing in DIR;
#                                         wait until it accepts connections; print its pid
#   scripts/broker.sh stop DIR            stop the broker started with DIR
#
# The cache lives outside the checkout (XUNCHA_CACHE, default ~/.cache/xuncha), so fresh
# clones on the same machine reuse the build.
set -euo pipefail

TANSU_VERSION=0.6.0
CACHE="${XUNCHA_CACHE:-$HOME/.cache/xuncha}"
ROOT="$CACHE/tansu-$TANSU_VERSION-libsql"
BIN="$ROOT/bin/tansu"

install() {
  if [ ! -x "$BIN" ]; then
    echo "building tansu $TANSU_VERSION into $ROOT (once per machine)" >&2
    mkdir -p "$CACHE"
    cargo install tansu --version "$TANSU_VERSION" --locked --features libsql \
      --root "$ROOT" --target-dir "$CACHE/tansu-build" >&2
    rm -rf "$CACHE/tansu-build"
  fi
  echo "$BIN"
}

start() {
  local port=$1 dir=$2
  [ -x "$BIN" ] || install >/dev/null
  mkdir -p "$dir"
  # Tansu reads the path of a sqlite:// URL as relative, so it runs inside its directory.
  (cd "$dir" && exec "$BIN" broker \
    --listener-url "tcp://127.0.0.1:$port" \
    --advertised-listener-url "tcp://127.0.0.1:$port" \
    --storage-engine "sqlite://tansu.db" >broker.log 2>&1) &
  echo $! >"$dir/broker.pid"
  for _ in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      cat "$dir/broker.pid"
      return 0
    fi
    sleep 0.1
  done
  echo "broker on 127.0.0.1:$port did not start; see $dir/broker.log" >&2
  return 1
}

stop() {
  local dir=$1
  [ -f "$dir/broker.pid" ] || return 0
  local pid
  pid=$(cat "$dir/broker.pid")
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -9 "$pid" 2>/dev/null || true
  rm -f "$dir/broker.pid"
}

case "${1:-}" in
  install) install ;;
  path) echo "$BIN" ;;
  start) start "$2" "$3" ;;
  stop) stop "$2" ;;
  *) sed -n '2,14p' "$0" >&2; exit 2 ;;
esac
