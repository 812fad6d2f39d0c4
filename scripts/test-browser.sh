#!/usr/bin/env bash
# Real-browser tests: headless Debian chromium driven by playwright-core walks the guest portal at a
# phone's viewport, with and without JavaScript (tests/browser/portal.mjs), the cloud portal of a
# RADIUS-mode router the same way (tests/browser/radius.mjs), then the operators'
# dashboard on the same stacks at 360×640 and 1280×800, JavaScript on and off (tests/browser/admin.mjs;
# poppler reads the voucher PDFs it downloads), and last a subscriber account sold on the dashboard
# and renewed from the subscriber's own page (tests/browser/subscriber.mjs).
#
#   scripts/test-browser.sh [BIN_DIR]     BIN_DIR: where local-stack, hotspot-agent and the
#                                         function binaries are (default target/debug)
#
# Installs what it needs (Debian chromium, `npm ci` in tests/browser), starts one local stack per
# journey in the background (a guest who is online is logged straight back in, so each purchase
# needs a fresh stack), runs the node test, and always stops the stacks. Screenshots go to
# artifacts/browser/. Environment: CHROMIUM (default /usr/bin/chromium), ARTIFACTS_DIR.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ROOT="$(pwd)"

BIN_DIR="${1:-${BIN_DIR:-target/debug}}"
export CHROMIUM="${CHROMIUM:-/usr/bin/chromium}"
export ARTIFACTS_DIR="${ARTIFACTS_DIR:-$ROOT/artifacts/browser}"
BROWSER_DIR="$ROOT/tests/browser"
READY_TIMEOUT_SECS=90

# What the stack needs (moto and cargo-lambda in the venv) and what the browser test needs.
ensure_all
ensure_apt node nodejs npm npm
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || { log "playwright-core needs Node.js 20 or later; found $(node --version)"; exit 1; }
if [ ! -x "$CHROMIUM" ]; then
    [ "$CHROMIUM" = /usr/bin/chromium ] || { log "CHROMIUM=$CHROMIUM is not executable"; exit 1; }
    ensure_apt chromium chromium
fi
lock_sum="$(sha256sum "$BROWSER_DIR/package-lock.json" | cut -d' ' -f1)"
stamp="$BROWSER_DIR/node_modules/.hotspot-package-lock.sha256"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$lock_sum" ]; then
    log "npm ci in tests/browser (playwright-core)"
    (cd "$BROWSER_DIR" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" > "$stamp"
fi

[ -x "$BIN_DIR/local-stack" ] || {
    log "$BIN_DIR/local-stack not found: cargo build -p e2e -p hotspot-agent -p lambdas --bins"
    exit 1
}

work="$(mktemp -d "${TMPDIR:-/tmp}/hotspot-browser.XXXXXX")"
pids=()
stop_stacks() {
    local pid i
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    # Each stack stops its children (moto, functions, agent) on SIGTERM; give it time, then insist.
    for pid in "${pids[@]}"; do
        for i in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -0 "$pid" 2>/dev/null && { log "local-stack $pid did not stop; killing it"; kill -KILL "$pid" 2>/dev/null || true; }
        wait "$pid" 2>/dev/null || true
    done
    pids=()
    rm -rf "$work"
}
trap stop_stacks EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

journeys=(js nojs)
started=$SECONDS
for j in "${journeys[@]}"; do
    # --radius: also a RADIUS-mode router, FreeRADIUS and its hotspot, for the cloud portal's walk.
    LOCAL_STACK_READY_FILE="$work/$j.json" "$BIN_DIR/local-stack" --radius >"$work/$j.log" 2>&1 &
    pids+=($!)
done
log "starting ${#journeys[@]} local stacks (pids ${pids[*]})"
for idx in "${!journeys[@]}"; do
    j=${journeys[$idx]} pid=${pids[$idx]}
    until [ -s "$work/$j.json" ]; do
        if ! kill -0 "$pid" 2>/dev/null; then
            log "local-stack ($j) exited before it was ready:"; cat "$work/$j.log" >&2; exit 1
        fi
        if [ $((SECONDS - started)) -ge $READY_TIMEOUT_SECS ]; then
            log "local-stack ($j) not ready after ${READY_TIMEOUT_SECS}s:"; cat "$work/$j.log" >&2; exit 1
        fi
        sleep 0.2
    done
done
log "stacks ready in $((SECONDS - started))s: $(cat "$work/js.json")"

mkdir -p "$ARTIFACTS_DIR"
rm -f "$ARTIFACTS_DIR"/*.png "$ARTIFACTS_DIR"/*.pdf "$ARTIFACTS_DIR"/*.csv
status=0
# The guest journeys first; then the dashboard on the same stacks finds and settles their purchases;
# then the RADIUS-mode router's guests (after the dashboard, whose revenue checks count one router);
# then a subscriber's renewal (after the dashboard's revenue checks, which it would change).
for t in portal.mjs admin.mjs radius.mjs subscriber.mjs; do
    (cd "$BROWSER_DIR" && STACK_JS="$work/js.json" STACK_NOJS="$work/nojs.json" node --test --test-timeout=120000 "$t") \
        || { status=$?; break; }
done
if [ $status -ne 0 ]; then
    # The stacks' logs vanish with them: keep them next to the screenshots.
    for j in "${journeys[@]}"; do
        state="$(node -e 'console.log(JSON.parse(require("fs").readFileSync(process.argv[1])).state_dir)' "$work/$j.json")"
        mkdir -p "$ARTIFACTS_DIR/logs-$j"
        cp "$work/$j.log" "$state"/*.log "$ARTIFACTS_DIR/logs-$j/" 2>/dev/null || true
    done
    log "browser test failed; screenshots and stack logs in $ARTIFACTS_DIR"
fi
exit $status
