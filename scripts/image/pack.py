#!/usr/bin/env python3
"""Packs one static binary into container image archives that RouterOS imports with
`/container/add file=...` (standard library only; byte-for-byte reproducible).

Two archives of the same single-layer, single-platform image:

  NAME.docker.tar  the `docker save` layout (manifest.json, <config>.json, <layer>/layer.tar),
                   the only one RouterOS up to 7.20 imports;
  NAME.oci.tar     an OCI image layout archive (oci-layout, index.json, blobs/sha256/...),
                   imported by RouterOS 7.21 and later;

and, with --gzip, each gzipped (`.tar.gz`; RouterOS accepts an outer gzip).

The layer is FROM scratch: the binary at /<name> (0755) and empty directories for the
state mount (/data), /tmp (1777, SQLite's spill files) and /etc (where a runtime writes
resolv.conf). Every tar entry has owner 0:0, the mtime given by --epoch, and entries are in
sorted order, so the same binary always gives the same digests.
"""

import argparse
import gzip
import hashlib
import io
import json
import os
import sys
import tarfile
import time

# Image platform per Rust target arch: (GOARCH-style architecture, variant).
PLATFORMS = {
    "aarch64": ("arm64", "v8"),
    "x86_64": ("amd64", None),
    "armv7": ("arm", "v7"),
    "armv5te": ("arm", "v5"),
}

MT_OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json"
MT_OCI_INDEX = "application/vnd.oci.image.index.v1+json"
MT_OCI_CONFIG = "application/vnd.oci.image.config.v1+json"
MT_OCI_LAYER = "application/vnd.oci.image.layer.v1.tar"


def canonical_json(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def tar_bytes(entries, epoch: int) -> bytes:
    """entries: (path, mode, data or None for a directory), written in sorted path order."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for path, mode, data in sorted(entries, key=lambda e: e[0]):
            info = tarfile.TarInfo(path + "/" if data is None else path)
            info.mode = mode
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mtime = epoch
            if data is None:
                info.type = tarfile.DIRTYPE
                tar.addfile(info)
            else:
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


def write_out(path: str, data: bytes, gz: bool) -> None:
    tmp = path + ".part"
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    if gz:
        with open(tmp, "wb") as f:
            # mtime=0 and no file name in the header: reproducible.
            with gzip.GzipFile(filename="", mode="wb", fileobj=f, compresslevel=9, mtime=0) as z:
                z.write(data)
        os.replace(tmp, path + ".gz")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--binary", required=True, help="the static executable")
    ap.add_argument("--arch", required=True, choices=sorted(PLATFORMS), help="Rust target arch")
    ap.add_argument("--name", default="hotspot-agent", help="image name and the binary's name in it")
    ap.add_argument("--version", required=True, help="image tag (the crate version)")
    ap.add_argument("--out", required=True, help="output path prefix; .docker.tar and .oci.tar are added")
    ap.add_argument("--epoch", type=int, default=int(os.environ.get("SOURCE_DATE_EPOCH", "0")),
                    help="timestamp for the config and every tar entry (default $SOURCE_DATE_EPOCH or 0)")
    ap.add_argument("--state-dir", default="/data", help="the agent's STATE_DIR (a RouterOS mount)")
    ap.add_argument("--port", type=int, default=80, help="the portal's port, as ExposedPorts")
    ap.add_argument("--gzip", action="store_true", help="also write .tar.gz of each archive")
    a = ap.parse_args()

    with open(a.binary, "rb") as f:
        binary = f.read()
    arch, variant = PLATFORMS[a.arch]
    created = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(a.epoch))
    state = a.state_dir.strip("/")

    layer = tar_bytes(
        [
            (a.name, 0o755, binary),
            (state, 0o755, None),
            ("tmp", 0o1777, None),
            ("etc", 0o755, None),
        ],
        a.epoch,
    )
    diff_id = sha256(layer)

    config = {
        "architecture": arch,
        "os": "linux",
        "created": created,
        "config": {
            "Entrypoint": ["/" + a.name],
            "Env": [f"STATE_DIR={a.state_dir}", "RUST_LOG=info"],
            "WorkingDir": "/",
            "ExposedPorts": {f"{a.port}/tcp": {}},
            "Labels": {
                "org.opencontainers.image.title": a.name,
                "org.opencontainers.image.version": a.version,
            },
        },
        "rootfs": {"type": "layers", "diff_ids": ["sha256:" + diff_id]},
        "history": [{"created": created, "created_by": "scripts/build-image.sh (static musl binary, FROM scratch)"}],
    }
    if variant:
        config["variant"] = variant
    config_bytes = canonical_json(config)
    config_id = sha256(config_bytes)
    tag = f"{a.name}:{a.version}"

    # docker save layout (as `docker save` wrote it up to Docker 24, legacy files included).
    legacy_json = canonical_json({"id": diff_id, "created": created, "os": "linux", "architecture": arch})
    docker = tar_bytes(
        [
            ("manifest.json", 0o644,
             canonical_json([{"Config": config_id + ".json", "RepoTags": [tag], "Layers": [diff_id + "/layer.tar"]}])),
            ("repositories", 0o644, canonical_json({a.name: {a.version: diff_id}})),
            (config_id + ".json", 0o644, config_bytes),
            (diff_id, 0o755, None),
            (diff_id + "/VERSION", 0o644, b"1.0"),
            (diff_id + "/json", 0o644, legacy_json),
            (diff_id + "/layer.tar", 0o644, layer),
        ],
        a.epoch,
    )

    # OCI image layout archive.
    manifest = canonical_json({
        "schemaVersion": 2,
        "mediaType": MT_OCI_MANIFEST,
        "config": {"mediaType": MT_OCI_CONFIG, "digest": "sha256:" + config_id, "size": len(config_bytes)},
        "layers": [{"mediaType": MT_OCI_LAYER, "digest": "sha256:" + diff_id, "size": len(layer)}],
    })
    platform = {"architecture": arch, "os": "linux"}
    if variant:
        platform["variant"] = variant
    index = canonical_json({
        "schemaVersion": 2,
        "mediaType": MT_OCI_INDEX,
        "manifests": [{
            "mediaType": MT_OCI_MANIFEST,
            "digest": "sha256:" + sha256(manifest),
            "size": len(manifest),
            "platform": platform,
            "annotations": {"org.opencontainers.image.ref.name": a.version},
        }],
    })
    oci = tar_bytes(
        [
            ("oci-layout", 0o644, canonical_json({"imageLayoutVersion": "1.0.0"})),
            ("index.json", 0o644, index),
            ("blobs", 0o755, None),
            ("blobs/sha256", 0o755, None),
            ("blobs/sha256/" + config_id, 0o644, config_bytes),
            ("blobs/sha256/" + diff_id, 0o644, layer),
            ("blobs/sha256/" + sha256(manifest), 0o644, manifest),
        ],
        a.epoch,
    )

    os.makedirs(os.path.dirname(os.path.abspath(a.out)), exist_ok=True)
    write_out(a.out + ".docker.tar", docker, a.gzip)
    write_out(a.out + ".oci.tar", oci, a.gzip)
    print(f"{a.out}.docker.tar {a.out}.oci.tar  image {tag} {arch}{'/' + variant if variant else ''} "
          f"config sha256:{config_id[:12]} layer sha256:{diff_id[:12]}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
