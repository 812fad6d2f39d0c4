#!/usr/bin/env bash
# Runs the whole system locally on loopback (see README "Quickstart"). `scripts/run.sh --radius`
# also runs a router in RADIUS mode with FreeRADIUS and its hotspot (docs/radius.md).
# Ctrl-C stops everything; a second run starts clean (all state lives in a fresh temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_all

log "building (first run: a few minutes)"
cargo build --quiet -p lambdas -p hotspot-agent -p e2e --bins
TARGET_DIR="$(cargo_target_dir)"
# The stack starts moto, the simulators, the functions under cargo lambda watch, the gateway and
# the agent; it prints the portal and phone-page URLs. Ctrl-C stops everything; state is temporary.
exec "$TARGET_DIR/debug/local-stack" "$@"
