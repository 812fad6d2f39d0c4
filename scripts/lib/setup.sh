# Installs what the project needs, idempotently and pinned. Sourced by run.sh and test.sh.
# Safe to run again and again: each step checks before it installs.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
VENV="${HOTSPOT_VENV:-$ROOT/.venv}"
export HOTSPOT_VENV="$VENV"

# Prefixed with the shell's elapsed time, so a CI log shows where the minutes went.
log() { printf '==> [%dm%02ds] %s\n' $((SECONDS / 60)) $((SECONDS % 60)) "$*" >&2; }

# The workspace's cargo target directory (honours CARGO_TARGET_DIR and .cargo/config).
cargo_target_dir() {
    cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])'
}

# The agent crate's version: it names the image files.
agent_version() {
    cargo metadata --format-version 1 --no-deps | python3 -c '
import json, sys
print(next(p["version"] for p in json.load(sys.stdin)["packages"] if p["name"] == "hotspot-agent"))'
}

# RouterOS's architecture-name for a build-image.sh architecture.
ros_arch_of() {
    # arm32v5 is not a RouterOS name (the hEX refresh says `arm` too) but Docker's: a separate
    # file, since only an ARMv5 image runs there ("CPU not supported" otherwise).
    case "$1" in aarch64) echo arm64 ;; x86_64) echo x86_64 ;; armv7) echo arm ;; armv5te) echo arm32v5 ;; esac
}

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; elif command -v sudo >/dev/null; then sudo "$@"; else
        log "need root to run: $*"; return 1; fi
}

# Debian packages: "command package" pairs; installs the package when its command is missing.
ensure_apt() {
    local missing=() cmd pkg
    while [ $# -gt 0 ]; do
        cmd=$1 pkg=$2; shift 2
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "installing Debian packages: ${missing[*]}"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
}

# Debian packages that put no command on the PATH (a FreeRADIUS module).
ensure_apt_always() {
    log "installing Debian packages: $*"
    as_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

ensure_venv() {
    local stamp="$VENV/.hotspot-requirements" want
    want="$(cat "$ROOT/scripts/requirements.txt" "$ROOT/scripts/requirements.lock" | sha256sum | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return 0; fi
    log "creating the Python venv at $VENV (moto, cargo-lambda, librouteros, cfn-lint)"
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check \
        -r "$ROOT/scripts/requirements.txt" -c "$ROOT/scripts/requirements.lock"
    echo "$want" > "$stamp"
}

ensure_rust_targets() {
    local t missing=()
    for t in x86_64-unknown-linux-musl aarch64-unknown-linux-musl; do
        rustup target list --installed 2>/dev/null | grep -qx "$t" || missing+=("$t")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    log "adding Rust targets: ${missing[*]}"
    rustup target add "${missing[@]}"
}

ensure_all() {
    command -v cargo >/dev/null || { log "Rust (cargo) is required: https://rustup.rs"; return 1; }
    # poppler-utils: the voucher PDF is read back by pdftotext and rendered by pdftoppm.
    ensure_apt python3 python3 curl curl pdftotext poppler-utils
    # RADIUS mode: the real FreeRADIUS with rlm_rest, radclient playing the router, radsecproxy
    # its RadSec client (a RouterOS 7 router), openssl making the test CA's certificates.
    ensure_apt freeradius freeradius radclient freeradius-utils openssl openssl
    [ -f /usr/lib/freeradius/rlm_rest.so ] || ensure_apt_always freeradius-rest
    # In /usr/sbin, which is not on every user's PATH.
    [ -x /usr/sbin/radsecproxy ] || ensure_apt_always radsecproxy
    ensure_venv
    ensure_rust_targets
    export PATH="$VENV/bin:$PATH"
}
