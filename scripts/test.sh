#!/usr/bin/env bash
# Runs every test: installs what it needs (idempotent, pinned), then format, lints and the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_all

log "cargo fmt --check"
cargo fmt --all -- --check
log "cargo clippy"
cargo clippy --workspace --all-targets -- -D warnings
log "layout: no circle between files, no agent file over 400 lines (docs/architecture.md)"
"$VENV/bin/python" scripts/check-layout.py
log "cargo build (the end-to-end tests start the real binaries)"
cargo build --workspace --bins
log "cargo test"
cargo test --workspace
log "the guest portal in a real browser (headless Chromium, JavaScript on and off)"
scripts/test-browser.sh "${CARGO_TARGET_DIR:-target}/debug"
log "wire golden vectors, checked by Python's own hmac/json"
"$VENV/bin/python" scripts/check-golden.py
log "the RouterOS container images: built, checked by skopeo, the arm64 binary run under qemu"
scripts/test-image.sh --arch aarch64,x86_64
log "all tests passed"
