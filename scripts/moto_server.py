"""Starts moto_server with DynamoDB requests serialized.

Real DynamoDB applies each conditional write atomically; moto's in-memory backend runs on a
threaded HTTP server without locks, so two concurrent conditional updates can both pass their
condition (seen in lambdas/tests/store.rs). One lock around DynamoDB actions restores the
guarantee our invariants rely on. SQS is left concurrent so long polls do not block DynamoDB.
Arguments are moto_server's own (e.g. -H 127.0.0.1 -p 5000).
"""
import sys
import threading

from moto.dynamodb.responses import DynamoHandler
from moto.server import main

_lock = threading.Lock()
_call_action = DynamoHandler.call_action


def _serialized(self):
    with _lock:
        return _call_action(self)


DynamoHandler.call_action = _serialized

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
