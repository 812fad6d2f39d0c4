"""Checks the wire contract's golden vectors with Python's json and hmac: an implementation we did
not write agrees on the canonical encoding and the signatures."""
import hashlib
import hmac
import json
import pathlib
import sys

path = pathlib.Path(__file__).resolve().parent.parent / "hotspot-core/tests/golden/wire-v1.json"
vectors = json.loads(path.read_text())["vectors"]
for v in vectors:
    msg = json.loads(v["message"])
    sig = msg.pop("sig")
    canonical = json.dumps(msg, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    if "hotspot-wire/v1\n" + canonical != v["signing_input"]:
        sys.exit(f"{v['name']}: canonical encoding differs from Python's sorted compact JSON")
    want = hmac.new(bytes.fromhex(v["key_hex"]), v["signing_input"].encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, sig):
        sys.exit(f"{v['name']}: signature differs")
print(f"{len(vectors)} passed, 0 failed")
