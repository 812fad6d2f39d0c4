#!/usr/bin/env bash
# Builds the RouterOS container images (scripts/build-image.sh) and checks them:
#  - skopeo (Debian) accepts each docker-save and OCI archive, with the right Architecture/Os
#    (and variant);
#  - the layer holds exactly the binary and the empty /data, /tmp, /etc directories; the
#    binary is a stripped static ELF of the right machine;
#  - the binaries extracted from the images answer --version with the crate version and pass
#    --self-check (SQLite, ring, the journal): arm64 under qemu-aarch64-static, armv7 and
#    armv5te (when built) under qemu-arm-static (armv5te as an ARM926), x86_64 natively;
#  - packing is reproducible (same binary, same bytes);
#  - the arm64 image stays under 6 MiB gzipped.
# Usage: scripts/test-image.sh [build-image.sh arguments, e.g. --arch aarch64,x86_64]
# Exits non-zero on any failure; ends with "N passed, N failed".
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/setup.sh
ensure_apt python3 python3 skopeo skopeo qemu-aarch64-static qemu-user-static
ensure_venv

MAX_ARM64_GZ=$((6 * 1024 * 1024))
TARGET_DIR="$(cargo_target_dir)"
VERSION="$(agent_version)"
OUT="$TARGET_DIR/images-test"
rm -rf "$OUT"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

start=$(date +%s)
scripts/build-image.sh --out "$OUT" "$@"
build_secs=$(( $(date +%s) - start ))

PASSED=0 FAILED=0
ok() { PASSED=$((PASSED + 1)); printf 'ok   %s\n' "$*"; }
bad() { FAILED=$((FAILED + 1)); printf 'FAIL %s\n' "$*"; }
check() { # check DESCRIPTION COMMAND...: runs it, its output indented
    local what=$1; shift
    if out="$("$@" 2>&1)"; then ok "$what"; else bad "$what"; fi
    [ -z "$out" ] || printf '%s\n' "$out" | sed 's/^/     /'
}


platform_of() {
    case "$1" in
        aarch64) echo "arm64 linux v8" ;;
        x86_64) echo "amd64 linux " ;;
        armv7) echo "arm linux v7" ;;
        armv5te) echo "arm linux v5" ;;
    esac
}

# skopeo's view: inspect (Architecture, Os) and the raw config (variant).
skopeo_platform() {
    local ref=$1 want=$2 got
    got="$(skopeo inspect "$ref" | python3 -c 'import json,sys; d=json.load(sys.stdin); print(d["Architecture"], d["Os"], end=" ")')"
    got+="$(skopeo inspect --config "$ref" | python3 -c 'import json,sys; print(json.load(sys.stdin).get("variant", ""))')"
    echo "$ref: $got"
    [ "$got" = "$want" ]
}

version_is() { # version_is RUNNER... BINARY: its --version is "hotspot-agent VERSION"
    local got
    got="$("$@" --version)"
    echo "$got"
    [ "$got" = "hotspot-agent $VERSION" ]
}

gz_under() {
    local size
    size=$(stat -c %s "$1")
    echo "$(basename "$1"): $size bytes ($(awk -v s="$size" 'BEGIN{printf "%.2f", s/1048576}') MiB), limit $2"
    [ "$size" -lt "$2" ]
}

repack_same() { # the same binary packed again gives byte-identical archives
    local a=$1 bin=$2 p="$OUT/hotspot-agent-$VERSION-$(ros_arch_of "$1")"
    "$VENV/bin/python" scripts/image/pack.py --gzip --arch "$a" --version "$VERSION" --binary "$bin" \
        --out "$WORK/again-$a" --epoch "$(python3 -c 'import json,sys,tarfile; t=tarfile.open(sys.argv[1]); print(t.getmember("manifest.json").mtime)' "$p.docker.tar")" 2>/dev/null
    cmp "$p.docker.tar" "$WORK/again-$a.docker.tar" && cmp "$p.oci.tar" "$WORK/again-$a.oci.tar" \
        && cmp "$p.docker.tar.gz" "$WORK/again-$a.docker.tar.gz"
}

BUILT=()
for a in aarch64 x86_64 armv7 armv5te; do
    [ -f "$OUT/hotspot-agent-$VERSION-$(ros_arch_of "$a").docker.tar" ] && BUILT+=("$a")
done
[ ${#BUILT[@]} -gt 0 ] || { bad "no image was built"; echo "0 passed, 1 failed"; exit 1; }

for a in "${BUILT[@]}"; do
    p="$OUT/hotspot-agent-$VERSION-$(ros_arch_of "$a")"
    want="$(platform_of "$a")"
    check "$a: skopeo accepts the docker-save archive ($want)" skopeo_platform "docker-archive:$p.docker.tar" "$want"
    check "$a: skopeo accepts the OCI archive ($want)" skopeo_platform "oci-archive:$p.oci.tar" "$want"
    check "$a: docker-save layer is the binary and empty dirs only" \
        "$VENV/bin/python" scripts/image/inspect.py layer "$p.docker.tar" "$WORK/$a.bin"
    check "$a: OCI archive carries the same layer" "$VENV/bin/python" scripts/image/inspect.py oci-layer "$p.oci.tar"
    [ -f "$WORK/$a.bin" ] || continue
    chmod +x "$WORK/$a.bin"
    check "$a: binary is a stripped static ELF" "$VENV/bin/python" scripts/image/inspect.py elf "$WORK/$a.bin" "$a"
    case "$a" in
        aarch64) run=(qemu-aarch64-static) how="under qemu-aarch64-static" ;;
        armv7) run=(qemu-arm-static) how="under qemu-arm-static" ;;
        # An ARM926EJ-S, the hEX refresh's class of core: any ARMv6/v7 instruction would trap.
        armv5te) run=(qemu-arm-static -cpu arm926) how="under qemu-arm-static -cpu arm926" ;;
        x86_64) run=() how="natively" ;;
    esac
    check "$a: --version $how" version_is "${run[@]}" "$WORK/$a.bin"
    # SQLite, ring's TLS and SHA-256, the journal: the C and assembly an emulated CPU must run.
    check "$a: --self-check $how" "${run[@]}" "$WORK/$a.bin" --self-check
    check "$a: packing is reproducible" repack_same "$a" "$WORK/$a.bin"
done

if [[ " ${BUILT[*]} " == *" aarch64 "* ]]; then
    check "aarch64: gzipped docker-save image under 6 MiB" gz_under "$OUT/hotspot-agent-$VERSION-arm64.docker.tar.gz" $MAX_ARM64_GZ
fi

echo
cat "$OUT/SIZES.txt"
echo "build (scripts/build-image.sh): ${build_secs}s"
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" -eq 0 ]
