#!/usr/bin/env bash
# Builds the on-router agent as static musl binaries (release: size-optimised, LTO, stripped)
# and packs each into the container image archives RouterOS imports with `/container/add file=`:
#
#   OUT/hotspot-agent-VERSION-ARCH.docker.tar[.gz]   docker-save layout (RouterOS up to 7.20)
#   OUT/hotspot-agent-VERSION-ARCH.oci.tar[.gz]      OCI archive (RouterOS 7.21+)
# ARCH as RouterOS names it (`/system resource print`, architecture-name): arm64, x86_64, arm.
#
# Usage: scripts/build-image.sh [--arch aarch64,x86_64,armv7,armv5te] [--out DIR]
#   --arch  comma-separated (arm64, amd64, arm and arm32v5 are accepted too); default all four.
#           armv7 (32-bit ARM: hAP ac², RB4011, ...) and armv5te (hEX refresh, which runs only
#           arm32v5 images) need the nightly toolchain with rust-src (-Zbuild-std; rustup has no
#           std for these targets): when it is missing they are skipped with the reason, or the
#           build fails if they were asked for by name.
#   --out   default: the cargo target directory's images/ (target/images).
#
# C code (ring, bundled SQLite) is cross compiled and everything is linked by zig cc (PyPI
# `ziglang`, in the project venv), so no cross gcc, musl-gcc or cmake is needed.
# See docs/container-image.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
source scripts/lib/setup.sh

ARCHES="aarch64,x86_64,armv7,armv5te"
ARCH_GIVEN=0
OUT=""
while [ $# -gt 0 ]; do
    case "$1" in
        --arch) ARCHES="$2"; ARCH_GIVEN=1; shift 2 ;;
        --arch=*) ARCHES="${1#--arch=}"; ARCH_GIVEN=1; shift ;;
        --out) OUT="$2"; shift 2 ;;
        --out=*) OUT="${1#--out=}"; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) log "unknown argument: $1 (try --help)"; exit 2 ;;
    esac
done

command -v cargo >/dev/null || { log "Rust (cargo) is required"; exit 1; }
ensure_apt python3 python3
ensure_venv
ensure_rust_targets

# Canonical names: the Rust arch (aarch64, x86_64, armv7).
canon() {
    case "$1" in
        aarch64|arm64) echo aarch64 ;;
        x86_64|amd64) echo x86_64 ;;
        armv7|arm) echo armv7 ;;
        armv5te|armv5|arm32v5) echo armv5te ;;
        *) log "unknown arch $1 (aarch64, x86_64, armv7, armv5te)"; exit 2 ;;
    esac
}
# The name in the file: RouterOS's architecture-name.
triple_of() {
    case "$1" in
        aarch64) echo aarch64-unknown-linux-musl ;;
        x86_64) echo x86_64-unknown-linux-musl ;;
        armv7) echo armv7-unknown-linux-musleabihf ;;
        armv5te) echo armv5te-unknown-linux-musleabi ;;
        *) log "unknown arch $1 (aarch64, x86_64, armv7, armv5te)"; exit 2 ;;
    esac
}
zig_of() {
    case "$1" in
        aarch64) echo aarch64-linux-musl ;;
        x86_64) echo x86_64-linux-musl ;;
        armv7) echo arm-linux-musleabihf ;;
        armv5te) echo arm-linux-musleabi ;;
    esac
}

# Cross C compiler, archiver and linker for one target: zig, which brings musl's crt and libc
# (so rustc's own self-contained copies are left out).
use_zig_for() {
    local triple=$1 zt=$2 var
    var="$(echo "$triple" | tr 'a-z-' 'A-Z_')"
    export "CC_${triple//-/_}=$ROOT/scripts/image/cc-$zt"
    export "AR_${triple//-/_}=$ROOT/scripts/image/ar"
    export "CARGO_TARGET_${var}_LINKER=$ROOT/scripts/image/cc-$zt"
    export "CARGO_TARGET_${var}_RUSTFLAGS=-C link-self-contained=no"
}

# Why the 32-bit ARM targets cannot be built here, or nothing when they can.
nightly_unavailable() {
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        echo "no nightly toolchain (rustup has no prebuilt std for the 32-bit ARM musl targets; they are built with -Zbuild-std, which needs nightly + rust-src)"
    elif [ ! -d "$(rustup run nightly rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
        echo "the nightly toolchain has no rust-src component (needed by -Zbuild-std): rustup component add rust-src --toolchain nightly"
    fi
}

STABLE=() NIGHTLY=()
IFS=, read -r -a LIST <<< "$ARCHES"
for a in "${LIST[@]}"; do
    a="$(canon "$a")"
    case "$a" in armv7|armv5te) NIGHTLY+=("$a") ;; *) STABLE+=("$a") ;; esac
done

TARGET_DIR="$(cargo_target_dir)"
VERSION="$(agent_version)"
OUT="${OUT:-$TARGET_DIR/images}"
mkdir -p "$OUT"
# Reproducible archives: the commit's time, unless the caller fixed one. Given to the packer
# only: cc-rs reruns build scripts (ring, SQLite) when SOURCE_DATE_EPOCH changes.
EPOCH="${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || echo 0)}"

BUILT=()
if [ ${#STABLE[@]} -gt 0 ]; then
    args=()
    for a in "${STABLE[@]}"; do
        use_zig_for "$(triple_of "$a")" "$(zig_of "$a")"
        args+=(--target "$(triple_of "$a")")
    done
    # One cargo run for all stable targets: build scripts and proc macros are compiled once.
    log "cargo build --release (${STABLE[*]})"
    cargo build --release --locked -p hotspot-agent --bin hotspot-agent "${args[@]}"
    BUILT+=("${STABLE[@]}")
fi

SKIPPED=""
if [ ${#NIGHTLY[@]} -gt 0 ]; then
    why="$(nightly_unavailable)"
    if [ -n "$why" ]; then
        if [ $ARCH_GIVEN = 1 ]; then log "${NIGHTLY[*]} asked for but cannot be built: $why"; exit 1; fi
        SKIPPED="${NIGHTLY[*]} skipped: $why"
        log "$SKIPPED"
    else
        args=()
        for a in "${NIGHTLY[@]}"; do
            t="$(triple_of "$a")"
            use_zig_for "$t" "$(zig_of "$a")"
            # rustc points the linker at the target's prebuilt std directory, which -Zbuild-std
            # leaves absent: zig's "unable to open library directory" notice is harmless.
            export "CARGO_TARGET_$(echo "$t" | tr 'a-z-' 'A-Z_')_RUSTFLAGS=-C link-self-contained=no -A linker_messages"
            args+=(--target "$t")
        done
        log "cargo +nightly build -Zbuild-std --release (${NIGHTLY[*]})"
        rustup run nightly cargo build --release --locked -p hotspot-agent --bin hotspot-agent \
            -Zbuild-std=std,panic_abort "${args[@]}"
        BUILT+=("${NIGHTLY[@]}")
    fi
fi

for a in "${BUILT[@]}"; do
    "$VENV/bin/python" scripts/image/pack.py --gzip --arch "$a" --version "$VERSION" --epoch "$EPOCH" \
        --binary "$TARGET_DIR/$(triple_of "$a")/release/hotspot-agent" \
        --out "$OUT/hotspot-agent-$VERSION-$(ros_arch_of "$a")"
done

# Sizes in bytes (MiB).
mib() { awk -v s="$1" 'BEGIN { printf "%d (%.2f)", s, s / 1048576 }'; }
{
    printf '%-7s %-18s %-18s %-18s %-18s %-18s\n' image binary docker.tar docker.tar.gz oci.tar oci.tar.gz
    for a in "${BUILT[@]}"; do
        p="$OUT/hotspot-agent-$VERSION-$(ros_arch_of "$a")"
        printf '%-7s' "$(ros_arch_of "$a")"
        for f in "$TARGET_DIR/$(triple_of "$a")/release/hotspot-agent" "$p.docker.tar" "$p.docker.tar.gz" "$p.oci.tar" "$p.oci.tar.gz"; do
            printf ' %-18s' "$(mib "$(stat -c %s "$f")")"
        done
        echo
    done
    [ -z "$SKIPPED" ] || echo "$SKIPPED"
} | tee "$OUT/SIZES.txt"
log "images in $OUT"
