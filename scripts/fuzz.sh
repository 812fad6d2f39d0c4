#!/usr/bin/env bash
# Fuzzes a parser (not part of CI). Usage: scripts/fuzz.sh TARGET [SECONDS] [RUNS]
#   TARGET: decoder (the RouterOS API decoder and reply parser, routeros/fuzz) or
#           portal_request (the portal's request head, Host check, forms, CSRF, redirects;
#           router-container/fuzz)
#   stops after SECONDS (default 300) or RUNS executions (default: no limit), whichever first.
# Needs the nightly toolchain (libFuzzer instrumentation); installs cargo-fuzz if missing.
# Prints libFuzzer's final line (executions, rate) and exits non-zero on a crash.
set -euo pipefail
cd "$(dirname "$0")/.."
TARGET="${1:?usage: scripts/fuzz.sh decoder|portal_request [SECONDS] [RUNS]}"
SECS="${2:-300}"
RUNS="${3:--1}"
case "$TARGET" in
  decoder) DIR=routeros/fuzz ;;
  portal_request) DIR=router-container/fuzz ;;
  *) echo "unknown fuzz target $TARGET" >&2; exit 2 ;;
esac
command -v cargo-fuzz >/dev/null || cargo install cargo-fuzz --locked
cd "$DIR"
mkdir -p "corpus/$TARGET"
exec cargo +nightly fuzz run "$TARGET" "corpus/$TARGET" -- -max_total_time="$SECS" -runs="$RUNS" -print_final_stats=1
