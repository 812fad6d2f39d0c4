#!/usr/bin/env bash
# Builds the on-router agent as static musl binaries (release: size-optimised, LTO, stripped)
# and packs each into the container image archives RouterOS imports with `/container/add file=`:
#
#   OUT/hotspot-agent-VERSION-ARCH.docker.tar[.gz]   docker-save layout (RouterOS up to 7.20)
#   OUT/hotspot-agent-VERSION-ARCH.oci.tar[.gz]      OCI archive (RouterOS 7.21+)
# ARCH as RouterOS names it (`/system resource print`, architecture-name): arm64, x86_64, arm.
#
# Usage: scripts/build-image.sh [--arch aarch64,x86_64,armv7] [--out DIR]
#   --arch  comma-separated (arm64, amd64 and arm are accepted too); default all three. armv7
#           (32-bit ARM: hAP ac², RB4011, ...) needs the nightly toolchain with rust-src
#           (-Zbuild-std; rustup has no std for the target): when it is missing, armv7 is
#           skipped with the reason, or fails the build if it was asked for by name.
#   --out   default: the cargo target directory's images/ (target/images).
#
# C code (ring, bundled SQLite) is cross compiled and everything is linked by zig cc (PyPI
# `ziglang`, in the project venv), so no cross gcc, musl-gcc or cmake is needed.
# See docs/container-image.md.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT="$PWD"
source scripts/lib/setup.sh

ARCHES="aarch64,x86_64,armv7"
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
        *) log "unknown arch $1 (aarch64, x86_64, armv7)"; exit 2 ;;
    esac
}
# The name in the file: RouterOS's architecture-name.
triple_of() {
    case "$1" in
        aarch64) echo aarch64-unknown-linux-musl ;;
        x86_64) echo x86_64-unknown-linux-musl ;;
        armv7) echo armv7-unknown-linux-musleabihf ;;
        *) log "unknown arch $1 (aarch64, x86_64, armv7)"; exit 2 ;;
    esac
}
zig_of() {
    case "$1" in
        aarch64) echo aarch64-linux-musl ;;
        x86_64) echo x86_64-linux-musl ;;
        armv7) echo arm-linux-musleabihf ;;
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

# Why armv7 cannot be built here, or nothing when it can.
armv7_unavailable() {
    if ! rustup run nightly rustc --version >/dev/null 2>&1; then
        echo "no nightly toolchain (rustup has no prebuilt std for armv7-unknown-linux-musleabihf; it is built with -Zbuild-std, which needs nightly + rust-src)"
    elif [ ! -d "$(rustup run nightly rustc --print sysroot)/lib/rustlib/src/rust/library" ]; then
        echo "the nightly toolchain has no rust-src component (needed by -Zbuild-std): rustup component add rust-src --toolchain nightly"
    fi
}

STABLE=() WANT_ARMV7=0
IFS=, read -r -a LIST <<< "$ARCHES"
for a in "${LIST[@]}"; do
    a="$(canon "$a")"
    if [ "$a" = armv7 ]; then WANT_ARMV7=1; else STABLE+=("$a"); fi
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
if [ $WANT_ARMV7 = 1 ]; then
    why="$(armv7_unavailable)"
    if [ -n "$why" ]; then
        if [ $ARCH_GIVEN = 1 ]; then log "armv7 asked for but cannot be built: $why"; exit 1; fi
        SKIPPED="armv7 skipped: $why"
        log "$SKIPPED"
    else
        use_zig_for armv7-unknown-linux-musleabihf arm-linux-musleabihf
        # rustc points the linker at the target's prebuilt std directory, which -Zbuild-std
        # leaves absent: zig's "unable to open library directory" notice is harmless.
        export CARGO_TARGET_ARMV7_UNKNOWN_LINUX_MUSLEABIHF_RUSTFLAGS="-C link-self-contained=no -A linker_messages"
        log "cargo +nightly build -Zbuild-std --release (armv7)"
        rustup run nightly cargo build --release --locked -p hotspot-agent --bin hotspot-agent \
            -Zbuild-std=std,panic_abort --target armv7-unknown-linux-musleabihf
        BUILT+=(armv7)
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
