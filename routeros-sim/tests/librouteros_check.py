"""Drive the RouterOS simulator with librouteros, a third-party client we did not write.

usage: librouteros_check.py HOST PORT USER PASSWORD
Exits non-zero with a message on the first mismatch; prints "librouteros-ok" at the end.
"""

import sys

import librouteros
from librouteros.exceptions import TrapError
from librouteros.protocol import parse_word
from librouteros.query import Key, Or


def check(cond, what):
    if not cond:
        sys.exit(f"FAIL: {what}")


def main():
    host, port, user, password = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]

    # Login failure is a trap with RouterOS's exact message.
    try:
        librouteros.connect(host=host, port=port, username=user, password=password + "x", timeout=5)
        sys.exit("FAIL: login with a wrong password succeeded")
    except TrapError as e:
        check(e.message == "invalid user name or password (6)", f"login trap message {e.message!r}")

    api = librouteros.connect(host=host, port=port, username=user, password=password, timeout=5)
    users = api.path("ip", "hotspot", "user")

    # Empty print (7.18 sends !empty before !done).
    check(list(users) == [], "empty user table")

    ids = {}
    for name, mac, comment in [
        ("alice", "aa-bb-cc-dd-ee-01", "first"),
        ("bob", "aa:bb:cc:dd:ee:02", None),
        ("carol", "AABBCCDDEE04", "third"),
    ]:
        kw = {"name": name, "password": "pw-" + name, "mac-address": mac, "limit-uptime": "1h"}
        if comment:
            kw["comment"] = comment
        new_id = users.add(**kw)
        check(new_id.startswith("*"), f"add returned id {new_id!r}")
        ids[name] = new_id
    check(len(set(ids.values())) == 3, f"distinct ids {ids}")

    rows = {r["name"]: r for r in users}
    check(set(rows) == {"alice", "bob", "carol"}, f"print names {set(rows)}")
    check(rows["alice"][".id"] == ids["alice"], "print .id matches add ret")
    check(rows["alice"]["mac-address"] == "AA:BB:CC:DD:EE:01", f"mac normalised {rows['alice']['mac-address']!r}")
    check(rows["bob"]["limit-uptime"] == "1h", "limit-uptime printed")
    check(rows["alice"]["disabled"] is False, "disabled parsed as bool false")

    # Duplicate name trap.
    try:
        users.add(name="alice", password="x")
        sys.exit("FAIL: duplicate add succeeded")
    except TrapError as e:
        check(
            e.message == "failure: already have user with this name for this server",
            f"duplicate trap message {e.message!r}",
        )

    # Queries and proplist through librouteros' query builder.
    name, comment = Key("name"), Key("comment")
    got = list(users.select(name, comment).where(name == "bob"))
    check(got == [{"name": "bob"}], f"select where name==bob -> {got}")
    got = sorted(r["name"] for r in users.select(name).where(Or(name == "alice", name == "carol")))
    check(got == ["alice", "carol"], f"Or query -> {got}")
    got = sorted(r["name"] for r in users.select(name).where(name != "bob"))
    check(got == ["alice", "carol"], f"!= query -> {got}")
    got = sorted(r["name"] for r in users.select(name).where(name.In("alice", "bob")))
    check(got == ["alice", "bob"], f"In query -> {got}")
    got = list(users.select(name).where(name == "nobody"))
    check(got == [], f"no match -> {got}")

    # Update (set) and its effect.
    users.update(**{".id": ids["bob"], "comment": "updated", "limit-bytes-total": 1000})
    bob = next(iter(users.select(Key(".id"), name, comment, Key("limit-bytes-total")).where(name == "bob")))
    check(bob["comment"] == "updated", f"set comment -> {bob}")
    check(bob["limit-bytes-total"] == 1000, f"set limit-bytes-total -> {bob}")

    # Unknown profile and unknown id traps.
    try:
        users.add(name="dave", password="x", profile="missing")
        sys.exit("FAIL: add with unknown profile succeeded")
    except TrapError as e:
        check(e.message == "input does not match any value of profile", f"profile trap {e.message!r}")
    try:
        users.remove("*FFFF")
        sys.exit("FAIL: remove of unknown id succeeded")
    except TrapError as e:
        check(e.message == "no such item", f"remove trap {e.message!r}")

    # Remove two at once (librouteros joins ids with commas).
    users.remove(ids["alice"], ids["carol"])
    left = [r["name"] for r in users]
    check(left == ["bob"], f"after remove {left}")

    # Other menus the agent uses.
    ident = list(api.path("system", "identity"))
    check(ident == [{"name": "MikroTik"}], f"identity {ident}")
    hosts = list(api.path("ip", "hotspot", "host"))
    check(len(hosts) == 1 and hosts[0]["address"] == "10.5.50.7", f"hosts {hosts}")

    # /ip/hotspot/host/listen as RouterOS's API manual shows it: tagged, silent until the table
    # changes, a removed item's row marked .dead, ended by /cancel with "interrupted" and !done.
    api2 = librouteros.connect(host=host, port=port, username=user, password=password, timeout=5)
    api2.protocol.writeSentence("/ip/hotspot/host/listen", ".tag=L")
    # One session's sentences run in order: once this answers, the listen is in place.
    api2.protocol.writeSentence("/system/identity/print", ".tag=P")
    got = read_until(api2, "P")
    check(all(a.get(".tag") == "P" for _, a in got), f"the listen answered before anything changed: {got}")
    api.path("ip", "hotspot", "host").remove(hosts[0][".id"])
    word, attrs = read_sentence(api2)
    check(
        word == "!re" and attrs.get(".tag") == "L" and attrs.get(".id") == hosts[0][".id"] and attrs.get(".dead") is True,
        f"removal reported as {word} {attrs}",
    )
    api2.protocol.writeSentence("/cancel", "=tag=L", ".tag=C")
    got = [(w, a.get(".tag"), a.get("message")) for w, a in read_until(api2, "C")]
    check(("!trap", "L", "interrupted") in got and ("!done", "L", None) in got, f"cancelled listen -> {got}")
    api2.close()

    api.close()
    print("librouteros-ok")


def read_sentence(api):
    """One reply: its word and attributes, `.tag` among them (librouteros parses `=k=v` words;
    its own readSentence takes no tagged replies)."""
    word, words = api.protocol.readSentence()
    attrs = {}
    for w in words:
        if w.startswith(".tag="):
            attrs[".tag"] = w[len(".tag=") :]
        else:
            k, v = parse_word(w)
            attrs[k] = v
    return word, attrs


def read_until(api, tag):
    """Sentences read until the !done tagged `tag`."""
    out = []
    while True:
        word, attrs = read_sentence(api)
        out.append((word, attrs))
        if word == "!done" and attrs.get(".tag") == tag:
            return out


if __name__ == "__main__":
    main()
