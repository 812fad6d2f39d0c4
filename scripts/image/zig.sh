#!/usr/bin/env bash
# Runs zig from PyPI `ziglang` (in the project venv, brought by cargo-lambda) as a C cross
# compiler, linker or archiver for the static musl images:
#   zig.sh cc ZIG_TARGET ARGS...   (C compiler and linker; cargo's and cc-rs' own --target dropped)
#   zig.sh ar ARGS...
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
py="${HOTSPOT_VENV:-$root/.venv}/bin/python"
[ -x "$py" ] || py=python3
mode=$1; shift
case "$mode" in
    ar) exec "$py" -m ziglang ar "$@" ;;
    cc)
        target=$1; shift
        args=()
        skip=0
        for a in "$@"; do
            if [ $skip = 1 ]; then skip=0; continue; fi
            case "$a" in
                # cc-rs passes the Rust triple (zig does not know "unknown" vendors); zig gets its own.
                --target=*) ;;
                -target) skip=1 ;;
                *) args+=("$a") ;;
            esac
        done
        exec "$py" -m ziglang cc -target "$target" "${args[@]}"
        ;;
    *) echo "zig.sh: unknown mode $mode" >&2; exit 2 ;;
esac
