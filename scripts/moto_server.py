"""Starts moto_server with DynamoDB requests serialized.

Real DynamoDB applies each conditional write atomically; moto's in-memory backend runs on a
threaded HTTP server without locks, so two concurrent conditional updates can both pass their
condition (seen in cloud/tests/store.rs). One lock around DynamoDB actions restores the
guarantee our invariants rely on. SQS is left concurrent so long polls do not block DynamoDB.
Arguments are moto_server's own (e.g. -H 127.0.0.1 -p 5000).

Opt-in, for scripts/bench.sh: with HOTSPOT_MOTO_COUNT_FILE set, every DynamoDB and SQS request
appends one tab-separated line to that file as it starts: wall-clock seconds, service, action,
the queue's name for SQS (`-` otherwise) and, for TransactWriteItems and BatchWriteItem, how
many items it writes (1 otherwise). Unset (the default), nothing changes.
"""
import json
import os
import sys
import threading
import time

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialized(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _serialized

_COUNT_FILE = os.environ.get("HOTSPOT_MOTO_COUNT_FILE")
if _COUNT_FILE:
    from moto.sqs.responses import SQSResponse

    _count_lock = threading.Lock()
    _count_out = open(_COUNT_FILE, "a", encoding="utf-8")

    def _params(self):
        try:
            body = json.loads(self.body or "{}")
            if isinstance(body, dict):
                return body
        except (TypeError, ValueError):
            pass
        return {}

    def _record(self, service):
        try:
            action = self._get_action()
        except Exception:  # noqa: BLE001 - counting must never break a request
            action = "?"
        params = _params(self)
        queue = "-"
        items = 1
        if service == "sqs":
            url = params.get("QueueUrl") or (self.querystring.get("QueueUrl") or [""])[0]
            queue = url.rstrip("/").rsplit("/", 1)[-1] or "-"
        elif action == "TransactWriteItems":
            items = len(params.get("TransactItems") or []) or 1
        elif action == "BatchWriteItem":
            items = sum(len(v) for v in (params.get("RequestItems") or {}).values()) or 1
        line = f"{time.time():.6f}\t{service}\t{action}\t{queue}\t{items}\n"
        with _count_lock:
            _count_out.write(line)
            _count_out.flush()

    def _counting(inner, service):
        def call(self):
            _record(self, service)
            return inner(self)

        return call

    DynamoHandler.call_action = _counting(DynamoHandler.call_action, "dynamodb")
    SQSResponse.call_action = _counting(SQSResponse.call_action, "sqs")

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
