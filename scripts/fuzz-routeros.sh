#!/usr/bin/env bash
# Fuzzes the RouterOS API decoder (not part of CI). Usage: scripts/fuzz-routeros.sh [SECONDS]
# Needs the nightly toolchain (libFuzzer instrumentation); installs cargo-fuzz if missing.
set -euo pipefail
cd "$(dirname "$0")/../routeros/fuzz"
SECS="${1:-300}"
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
mkdir -p corpus/decoder
exec cargo +nightly fuzz run decoder corpus/decoder -- -max_total_time="$SECS"
