"""Push N hotspot users with librouteros (one at a time: it has no pipelining) and print the seconds.

usage: bench_librouteros.py HOST PORT USER PASSWORD COUNT
"""

import sys
import time

import librouteros


def main():
    host, port, user, password, count = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4], int(sys.argv[5])
    api = librouteros.connect(host=host, port=port, username=user, password=password, timeout=120)
    users = api.path("ip", "hotspot", "user")
    start = time.monotonic()
    for i in range(count):
        users.add(name=f"bench-librouteros-{i}", password=f"pw{i}", comment="bench")
    print(f"{time.monotonic() - start:.3f}")
    api.close()


if __name__ == "__main__":
    main()
