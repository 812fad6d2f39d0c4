#!/usr/bin/env bash
# Push N hotspot users to the RouterOS simulator (20 ms injected per command) with:
#   our client pipelined, our client one-at-a-time, and librouteros (Python, third party).
# Prints one JSON object per line: {"metric": NAME, "value": NUMBER, "unit": UNIT}.
#
# usage: scripts/bench-routeros.sh [--count N] [--window W] [--latency-ms MS]
#   env: BENCH_N (default 10000), BENCH_WINDOW (1000), BENCH_LATENCY_MS (20),
#        HOTSPOT_PYTHON (default <repo>/.venv/bin/python), CARGO_TARGET_DIR.
# 10000 one-at-a-time commands at 20 ms take ~200 s each for the serial and librouteros runs.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
N="${BENCH_N:-10000}"
WINDOW="${BENCH_WINDOW:-1000}"
LATENCY_MS="${BENCH_LATENCY_MS:-20}"
while [ $# -gt 0 ]; do
  case "$1" in
    --count) N="$2"; shift 2 ;;
    --window) WINDOW="$2"; shift 2 ;;
    --latency-ms) LATENCY_MS="$2"; shift 2 ;;
    -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done
PY="${HOTSPOT_PYTHON:-$ROOT/.venv/bin/python}"
[ -x "$PY" ] || { echo "no Python at $PY (create .venv with librouteros==4.2.2 or set HOTSPOT_PYTHON)" >&2; exit 1; }
"$PY" -c 'import librouteros' || { echo "librouteros missing in $PY" >&2; exit 1; }

TARGET="${CARGO_TARGET_DIR:-$ROOT/target}"
echo "building release binaries into $TARGET ..." >&2
(cd "$ROOT" && CARGO_TARGET_DIR="$TARGET" cargo build --release -q -p routeros-sim --bin routeros-sim \
  && CARGO_TARGET_DIR="$TARGET" cargo build --release -q -p routeros --example push_users)
SIM="$TARGET/release/routeros-sim"
PUSH="$TARGET/release/examples/push_users"
PASSWORD="bench"

WORK="$(mktemp -d)"
SIM_PID=""
cleanup() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# Starts a fresh simulator (so every run adds to an empty table) and sets HOST/PORT.
start_sim() {
  cleanup_sim
  : > "$WORK/sim.out"
  # stdin from /dev/null: the simulator keeps serving after stdin closes.
  "$SIM" --listen 127.0.0.1:0 --password "$PASSWORD" --latency-ms "$LATENCY_MS" < /dev/null > "$WORK/sim.out" 2>"$WORK/sim.err" &
  SIM_PID=$!
  for _ in $(seq 1 100); do
    if grep -q listening "$WORK/sim.out"; then break; fi
    sleep 0.05
  done
  ADDR="$(sed -n 's/.*"listening":"\([^"]*\)".*/\1/p' "$WORK/sim.out")"
  [ -n "$ADDR" ] || { echo "simulator did not start: $(cat "$WORK/sim.err")" >&2; exit 1; }
  HOST="${ADDR%:*}"
  PORT="${ADDR##*:}"
}
cleanup_sim() {
  if [ -n "$SIM_PID" ]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; SIM_PID=""; fi
}

metric() { printf '{"metric": "%s", "value": %s, "unit": "%s"}\n' "$1" "$2" "$3"; }
seconds_of() { sed -n 's/.*"seconds":\([0-9.]*\).*/\1/p'; }

echo "pushing $N users, ${LATENCY_MS} ms per command ..." >&2
start_sim
PIPE_S="$("$PUSH" "$ADDR" admin "$PASSWORD" "$N" pipelined "$WINDOW" | seconds_of)"
start_sim
SERIAL_S="$("$PUSH" "$ADDR" admin "$PASSWORD" "$N" serial | seconds_of)"
start_sim
LIB_S="$("$PY" "$ROOT/scripts/bench_librouteros.py" "$HOST" "$PORT" admin "$PASSWORD" "$N")"
cleanup_sim

calc() { "$PY" -c "print(round($1, 3))"; }
metric routeros_push_count "$N" users
metric routeros_injected_latency "$LATENCY_MS" ms
metric routeros_pipeline_window "$WINDOW" commands
metric routeros_push_pipelined_seconds "$PIPE_S" s
metric routeros_push_serial_seconds "$SERIAL_S" s
metric librouteros_push_seconds "$LIB_S" s
metric routeros_push_pipelined_rate "$(calc "$N / $PIPE_S")" users/s
metric routeros_push_serial_rate "$(calc "$N / $SERIAL_S")" users/s
metric librouteros_push_rate "$(calc "$N / $LIB_S")" users/s
metric routeros_push_10k_vs_librouteros_ratio "$(calc "$LIB_S / $PIPE_S")" x
metric routeros_pipelined_vs_serial_ratio "$(calc "$SERIAL_S / $PIPE_S")" x
metric routeros_serial_vs_librouteros_ratio "$(calc "$LIB_S / $SERIAL_S")" x
