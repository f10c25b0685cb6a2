#!/usr/bin/env bash
# Headless Chromium for the HTML report test (crates/xuncha/tests/report_html.rs) and the
# console's browser tests (crates/xuncha/tests/browser.rs, driven over WebDriver):
# installs Debian's `chromium` and `chromium-driver` packages when they are missing, and a
# Chinese font when none is installed (without one the screenshots show empty boxes), then
# prints the path of chromium. The driver is /usr/bin/chromedriver.
#
#   bash scripts/chromium.sh        install what is missing; prints /usr/bin/chromium
set -euo pipefail

BIN=/usr/bin/chromium
want=()
DRIVER=/usr/bin/chromedriver
[ -x "$BIN" ] || want+=(chromium)
[ -x "$DRIVER" ] || want+=(chromium-driver)
if ! command -v fc-list >/dev/null || [ -z "$(fc-list :lang=zh 2>/dev/null)" ]; then
    want+=(fonts-wqy-microhei)
fi
if [ ${#want[@]} -gt 0 ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then
        SUDO=sudo
    fi
    export DEBIAN_FRONTEND=noninteractive
    # Refresh the package lists only when the install cannot go ahead without them (a
    # fresh machine has none, or stale ones).
    if ! $SUDO apt-get install -y --no-install-recommends "${want[@]}" >&2; then
        $SUDO apt-get update >&2
        $SUDO apt-get install -y --no-install-recommends "${want[@]}" >&2
    fi
fi
"$BIN" --version >&2
"$DRIVER" --version >&2
echo "$BIN"
