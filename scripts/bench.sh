#!/usr/bin/env bash
# The benchmarks of issue 8 (not part of CI). Prints one JSON object per line on stdout,
#   {"metric": NAME, "value": NUMBER, "unit": UNIT}
# and progress on stderr. What each metric means, how it is measured and the AWS prices used:
# docs/benchmarks.md.
#
# usage: scripts/bench.sh [--purchases N] [--clients N] [--skip-routeros] [--skip-image]
#   env: CARGO_TARGET_DIR, HOTSPOT_VENV, BENCH_* (passed to scripts/bench-routeros.sh),
#        BENCH_STACK_ARGS (more bench-stack flags, e.g. "--idle-secs 30 --restarts 5" for a quick run),
#        BENCH_AGENT (another hotspot-agent binary to measure, e.g. an earlier commit's release build,
#        for a before/after on one machine; default: this checkout's release build)
#
# Installs what it needs first (Debian nginx, wrk, util-linux's taskset; the project's venv and
# Rust targets through scripts/lib/setup.sh). Builds:
#   - hotspot-agent in release: the profile that ships (size-optimised, the portal request path at
#     opt-level 3), so its RSS and portal
#     throughput are the router's;
#   - the Lambda functions in debug, as scripts/test.sh builds them: six release builds with LTO
#     take far longer on small machines. Their measured durations (priced as Lambda GB-s) are
#     therefore pessimistic;
#   - the driver (bench-stack) in debug, but with the RouterOS simulator, the RouterOS codec and
#     the driver's own code at opt-level 3 (`--config`, nothing else rebuilt): the simulator
#     answers the portal's host lookups and the driver is the load generator, so in a plain
#     debug build they, not the agent, would limit the portal's measured throughput.
# Once built, about 24 minutes on 2 cores: the stack part ~16 min (a 10-minute idle window), scripts/bench-routeros.sh ~8 min,
# plus scripts/build-image.sh's own builds.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
ROOT="$(pwd)"

PURCHASES=200
CLIENTS=500
RUN_ROUTEROS=1
RUN_IMAGE=1
while [ $# -gt 0 ]; do
  case "$1" in
    --purchases) PURCHASES="$2"; shift 2 ;;
    --clients) CLIENTS="$2"; shift 2 ;;
    --skip-routeros) RUN_ROUTEROS=0; shift ;;
    --skip-image) RUN_IMAGE=0; shift ;;
    -h|--help) sed -n '2,20p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

# shellcheck source=lib/setup.sh
source scripts/lib/setup.sh
# Everything but the metrics goes to stderr.
ensure_all >&2
ensure_apt nginx nginx wrk wrk taskset util-linux gzip gzip >&2
NGINX="$(command -v nginx || echo /usr/sbin/nginx)"
WRK="$(command -v wrk)"

TARGET="${CARGO_TARGET_DIR:-$(cargo_target_dir)}"
export CARGO_TARGET_DIR="$TARGET"
log "building the functions and the driver (debug) and the agent (release) into $TARGET"
# One invocation: building the functions alone would unify features differently and rebuild
# the AWS SDK. The opt-level overrides touch only the three packages named.
cargo build --quiet -p lambdas --bins -p e2e --bin bench-stack \
  --config 'profile.dev.package.routeros-sim.opt-level=3' \
  --config 'profile.dev.package.routeros.opt-level=3' \
  --config 'profile.dev.package.e2e.opt-level=3' >&2
cargo build --quiet --release -p hotspot-agent >&2

WORK="$(mktemp -d)"
DRIVER_PID=""
cleanup() {
  if [ -n "$DRIVER_PID" ] && kill -0 "$DRIVER_PID" 2>/dev/null; then
    kill -TERM "$DRIVER_PID" 2>/dev/null || true
    wait "$DRIVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The stack takes every binary from one directory: the debug functions, the release agent.
BIN="$WORK/bin"
mkdir -p "$BIN"
for f in purchase status callback reconcile expiry events admin radius portal; do ln -s "$TARGET/debug/$f" "$BIN/$f"; done
ln -s "${BENCH_AGENT:-$TARGET/release/hotspot-agent}" "$BIN/hotspot-agent"

# 500 clients hold 500 sockets on each side.
ulimit -n 8192 2>/dev/null || ulimit -n 4096 2>/dev/null || true

export HOTSPOT_MOTO_COUNT_FILE="$WORK/moto-requests.tsv"
: > "$HOTSPOT_MOTO_COUNT_FILE"
"$TARGET/debug/bench-stack" --bin-dir "$BIN" --purchases "$PURCHASES" --clients "$CLIENTS" \
  --nginx "$NGINX" --wrk "$WRK" ${BENCH_STACK_ARGS:-} &
DRIVER_PID=$!
wait "$DRIVER_PID"
DRIVER_PID=""

metric() { printf '{"metric": "%s", "value": %s, "unit": "%s"}\n' "$1" "$2" "$3"; }

# The agent's container image (scripts/build-image.sh writes an arm64 docker-archive tar).
if [ "$RUN_IMAGE" = 1 ]; then
  if [ -x scripts/build-image.sh ]; then
    log "building the container image (scripts/build-image.sh)"
    scripts/build-image.sh >&2
    TAR="$(find target/images "$TARGET/images" -name '*arm64*.tar' -newer "$WORK" 2>/dev/null | head -n 1 || true)"
    [ -n "$TAR" ] || TAR="$(find target/images "$TARGET/images" -name '*arm64*.tar' 2>/dev/null | head -n 1 || true)"
    if [ -n "$TAR" ]; then
      log "image: $TAR"
      metric agent_image_arm64_gz_bytes "$(gzip -9 -c "$TAR" | wc -c)" bytes
    else
      log "skipping agent_image_arm64_gz_bytes: scripts/build-image.sh left no *arm64*.tar under target/images/"
    fi
  else
    log "skipping agent_image_arm64_gz_bytes: scripts/build-image.sh does not exist yet"
  fi
fi

# The RouterOS client against librouteros: its own script, its lines passed through.
if [ "$RUN_ROUTEROS" = 1 ]; then
  log "RouterOS push benchmark (scripts/bench-routeros.sh, ~8 minutes)"
  HOTSPOT_PYTHON="${HOTSPOT_PYTHON:-$VENV/bin/python}" scripts/bench-routeros.sh
fi
log "done"
