#!/usr/bin/env bash
# Takes a screenshot of the Temporal Web UI's workflow list, filtered by the BlockNumber search
# attribute, with headless Chromium, and saves it as docs/web-ui-blocks.png.
#
# Run it while the dev stack is up and blocks exist, for example after scripts/run-local.sh,
# which leaves the stack running. Installs the Debian `chromium` package when it is missing
# (needs root and access to the Debian archive).
#
# Environment:
#   QUERY   visibility query of the list (default: BlockNumber >= 1)
#   OUTPUT  PNG path (default: docs/web-ui-blocks.png)
#   UI_URL  Web UI base URL (default: http://127.0.0.1:8233)
#   WINDOW  browser window size WIDTH,HEIGHT in pixels (default: 1600,900)
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
query=${QUERY:-BlockNumber >= 1}
output=${OUTPUT:-$root/docs/web-ui-blocks.png}
ui_url=${UI_URL:-http://127.0.0.1:8233}
window=${WINDOW:-1600,900}

if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "chromium is not installed; run: sudo apt-get update && sudo apt-get install -y chromium" >&2
        exit 1
    fi
    echo "installing chromium (Debian package)"
    apt-get update
    DEBIAN_FRONTEND=noninteractive apt-get install -y chromium
fi

if ! curl -sf -o /dev/null "$ui_url/"; then
    echo "the Web UI at $ui_url does not respond; start the stack with scripts/dev-stack.sh up" >&2
    exit 1
fi

# The UI reads the list filter from the `query` parameter, in the visibility query language.
encoded=$(python3 -c 'import sys, urllib.parse; print(urllib.parse.quote(sys.argv[1], safe=""))' "$query")
url="$ui_url/namespaces/default/workflows?query=$encoded"

profile=$(mktemp -d)
trap 'rm -rf "$profile"' EXIT
mkdir -p "$(dirname "$output")"

# The machine may have no network: these flags keep Chromium from reaching any server other
# than the UI. The virtual time budget lets the page load its workflow list before the capture.
echo "capturing $url"
chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run \
    --disable-background-networking --disable-component-update --disable-sync \
    --disable-dev-shm-usage --hide-scrollbars \
    --user-data-dir="$profile" --window-size="$window" \
    --virtual-time-budget=20000 \
    --screenshot="$output" "$url" 2>"$profile/chromium.log" || {
    echo "chromium failed; its log:" >&2
    cat "$profile/chromium.log" >&2
    exit 1
}
[ -s "$output" ] || { echo "chromium wrote no screenshot to $output" >&2; exit 1; }
echo "saved $output"
