#!/usr/bin/env python3
"""Checks for the image archives written by pack.py (standard library only).

  inspect.py layer ARCHIVE.docker.tar DEST   check the layer's contents, extract the binary to DEST
  inspect.py oci-layer ARCHIVE.oci.tar       check the OCI archive's layer is the same as above
  inspect.py elf FILE MACHINE                check FILE is a static ELF for MACHINE (aarch64, x86_64, armv7)

Each prints what it found and exits non-zero with the reason on a mismatch.
"""

import hashlib
import io
import json
import struct
import sys
import tarfile

EXPECTED_LAYER = {
    # path: (type, mode)
    "hotspot-agent": ("file", 0o755),
    "data": ("dir", 0o755),
    "tmp": ("dir", 0o1777),
    "etc": ("dir", 0o755),
}
ELF_MACHINES = {"aarch64": 183, "x86_64": 62, "armv7": 40, "armv5te": 40}


def fail(msg: str) -> None:
    print(f"FAIL: {msg}", file=sys.stderr)
    sys.exit(1)


def check_layer(layer: bytes) -> bytes:
    seen = {}
    binary = None
    with tarfile.open(fileobj=io.BytesIO(layer)) as t:
        for m in t.getmembers():
            name = m.name.rstrip("/")
            kind = "dir" if m.isdir() else "file" if m.isfile() else "other"
            seen[name] = (kind, m.mode)
            if m.uid or m.gid:
                fail(f"{name} owned by {m.uid}:{m.gid}, not 0:0")
            if name == "hotspot-agent" and m.isfile():
                binary = t.extractfile(m).read()
    if seen != EXPECTED_LAYER:
        fail(f"layer holds {sorted(seen.items())}, expected {sorted(EXPECTED_LAYER.items())}")
    print(f"layer: {', '.join(f'/{k} {v[0]} {v[1]:o}' for k, v in sorted(seen.items()))}")
    return binary


def cmd_layer(archive: str, dest: str) -> None:
    with tarfile.open(archive) as t:
        manifest = json.load(t.extractfile("manifest.json"))
        if len(manifest) != 1 or len(manifest[0]["Layers"]) != 1:
            fail(f"expected one image with one layer, got {manifest}")
        config = json.load(t.extractfile(manifest[0]["Config"]))
        layer = t.extractfile(manifest[0]["Layers"][0]).read()
    diff_id = "sha256:" + hashlib.sha256(layer).hexdigest()
    if config["rootfs"]["diff_ids"] != [diff_id]:
        fail(f"config diff_ids {config['rootfs']['diff_ids']} != layer {diff_id}")
    if config["config"].get("Entrypoint") != ["/hotspot-agent"]:
        fail(f"Entrypoint {config['config'].get('Entrypoint')}")
    binary = check_layer(layer)
    with open(dest, "wb") as f:
        f.write(binary)
    print(f"extracted /hotspot-agent ({len(binary)} bytes) to {dest}")


def cmd_oci_layer(archive: str) -> None:
    with tarfile.open(archive) as t:
        index = json.load(t.extractfile("index.json"))
        (desc,) = index["manifests"]
        blob = lambda d: t.extractfile("blobs/sha256/" + d.split(":", 1)[1]).read()  # noqa: E731
        manifest_bytes = blob(desc["digest"])
        if "sha256:" + hashlib.sha256(manifest_bytes).hexdigest() != desc["digest"]:
            fail("manifest digest mismatch")
        manifest = json.loads(manifest_bytes)
        (layer_desc,) = manifest["layers"]
        layer = blob(layer_desc["digest"])
        if "sha256:" + hashlib.sha256(layer).hexdigest() != layer_desc["digest"] or len(layer) != layer_desc["size"]:
            fail("layer digest or size mismatch")
        config = json.loads(blob(manifest["config"]["digest"]))
        if config["architecture"] != desc["platform"]["architecture"]:
            fail("index platform differs from config")
    check_layer(layer)


def cmd_elf(path: str, machine: str) -> None:
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF":
        fail(f"{path} is not ELF")
    is64 = data[4] == 2
    end = "<" if data[5] == 1 else ">"
    (e_machine,) = struct.unpack_from(end + "H", data, 18)
    if e_machine != ELF_MACHINES[machine]:
        fail(f"{path}: ELF machine {e_machine}, expected {ELF_MACHINES[machine]} ({machine})")
    if is64:
        phoff, = struct.unpack_from(end + "Q", data, 32)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 54)
    else:
        phoff, = struct.unpack_from(end + "I", data, 28)
        phentsize, phnum = struct.unpack_from(end + "HH", data, 42)
    types = [struct.unpack_from(end + "I", data, phoff + i * phentsize)[0] for i in range(phnum)]
    if 3 in types:  # PT_INTERP: needs a dynamic loader the scratch image does not have
        fail(f"{path} is dynamically linked (has an interpreter)")
    # Section headers: a stripped binary keeps no .symtab.
    if is64:
        shoff, = struct.unpack_from(end + "Q", data, 40)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 58)
    else:
        shoff, = struct.unpack_from(end + "I", data, 32)
        shentsize, shnum = struct.unpack_from(end + "HH", data, 46)
    sh_types = [struct.unpack_from(end + "I", data, shoff + i * shentsize + 4)[0] for i in range(shnum)]
    if 2 in sh_types:  # SHT_SYMTAB
        fail(f"{path} is not stripped (has .symtab)")
    kind = "static-pie" if 2 in types else "static"  # PT_DYNAMIC without PT_INTERP
    print(f"{path}: ELF {machine}, {kind}, stripped, {len(data)} bytes")


def main() -> None:
    cmd, *args = sys.argv[1:] or ["help"]
    if cmd == "layer" and len(args) == 2:
        cmd_layer(*args)
    elif cmd == "oci-layer" and len(args) == 1:
        cmd_oci_layer(*args)
    elif cmd == "elf" and len(args) == 2:
        cmd_elf(*args)
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main()
