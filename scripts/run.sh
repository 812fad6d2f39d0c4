#!/usr/bin/env bash
# Runs the system locally on loopback: what exists so far (see README "Status").
# Ctrl-C stops everything; a second run starts clean (all state lives in a fresh temp dir).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_all

STATE="$(mktemp -d -t hotspot-local.XXXXXX)"
PIDS=()
cleanup() {
    trap - INT TERM EXIT
    log "stopping"
    for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$STATE"
}
trap cleanup INT TERM EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_port() {
    local port=$1 name=$2 i
    for i in $(seq 1 300); do
        (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
        sleep 0.1
    done
    log "$name did not start on port $port; its log:"; cat "$STATE/$name.log" >&2; return 1
}

MOTO_PORT=$(free_port)
"$VENV/bin/python" scripts/moto_server.py -H 127.0.0.1 -p "$MOTO_PORT" >"$STATE/moto.log" 2>&1 &
PIDS+=($!)
wait_port "$MOTO_PORT" moto

cat <<INFO

  AWS (DynamoDB + SQS, moto):  http://127.0.0.1:$MOTO_PORT
  state and logs:              $STATE

  Press Ctrl-C to stop.
INFO
wait
