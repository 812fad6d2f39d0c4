#!/usr/bin/env bash
# Runs every test: installs what it needs (idempotent, pinned), then format, lints and the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_all
# A run of every test is mostly a clean build (CI's always is): incremental compilation's caches
# only cost time and disk there. Set CARGO_INCREMENTAL=1 to keep them between local runs.
export CARGO_INCREMENTAL="${CARGO_INCREMENTAL:-0}"

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
# The 32-bit ARM images (armv7: hAP ac², RB4011; arm32v5: hEX refresh) need a nightly toolchain
# with rust-src (-Zbuild-std): built and run under qemu where one is present, skipped otherwise.
ARCHES=aarch64,x86_64
if rustup run nightly rustc --version >/dev/null 2>&1 \
    && [ -d "$(rustup run nightly rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
    ARCHES="$ARCHES,armv7,armv5te"
else
    log "no nightly toolchain with rust-src: the armv7 and arm32v5 images are not built here"
fi
log "the RouterOS container images ($ARCHES): built, checked by skopeo, each binary run (qemu for ARM)"
scripts/test-image.sh --arch "$ARCHES"
log "all tests passed"
