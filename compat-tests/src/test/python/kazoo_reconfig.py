#!/usr/bin/python3
"""kazoo's reconfig and the /zookeeper/config znode against an ensemble with reconfigEnabled=true.

Usage: kazoo_reconfig.py HOST:PORT,HOST:PORT,... SUPER_USER:PASSWORD FOLLOWER_ID
Reads /zookeeper/config (Apache's form: server.N lines and version=<hex>) with a watch; an anonymous reconfig gets
NoAuthError, the super user's gets BadVersionError for a wrong from_config and BadArgumentsError for leaving fewer than
two voters; a reconfig re-stating the members from the version read commits a new version, which the watch reports
and a new read shows; removing FOLLOWER_ID (from that version) commits a configuration of the other two voters,
which the others read (the hosts given are those two: a removed member drops its clients). Prints "PASS reconfig".
"""
import sys
import threading

from kazoo.client import KazooClient
from kazoo.exceptions import BadArgumentsError, BadVersionError, NoAuthError

CONFIG = "/zookeeper/config"


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def expect(error, call):
    try:
        call()
    except error:
        return
    raise AssertionError("expected %s" % error.__name__)


def parse(data, count=3):
    lines = data.decode("utf-8").split("\n")
    check(lines[-1].startswith("version="), "last line %r" % lines[-1])
    members = [line for line in lines[:-1] if line]
    check(len(members) == count and all(line.startswith("server.") for line in members), "members %r" % members)
    check(all(line.split("=", 1)[1].split(";")[0].endswith(":participant") for line in members), "roles %r" % members)
    return members, int(lines[-1][len("version="):], 16)


def main():
    hosts, super_auth, removed = sys.argv[1], sys.argv[2], sys.argv[3]
    anyone = KazooClient(hosts=hosts, timeout=10.0)
    admin = KazooClient(hosts=hosts, timeout=10.0, auth_data=[("digest", super_auth)])
    anyone.start(timeout=15)
    admin.start(timeout=15)
    try:
        changed = threading.Event()
        data, _ = anyone.get(CONFIG, watch=lambda event: changed.set())
        members, version = parse(data)

        expect(NoAuthError, lambda: anyone.reconfig(None, None, None, from_config=-1))
        expect(BadVersionError, lambda: admin.reconfig(None, None, None, from_config=version + 12345))
        expect(BadArgumentsError, lambda: admin.reconfig(None, "2,3", None, from_config=-1))
        check(not changed.is_set(), "a refused reconfig changed the config")

        data, stat = admin.reconfig(None, None, ",".join(members), from_config=version)
        new_members, new_version = parse(data)
        check(new_members == members, "members changed: %r" % new_members)
        check(new_version != version and new_version == stat.mzxid, "version %x, mzxid %x" % (new_version, stat.mzxid))
        check(changed.wait(10), "the watch on %s did not fire" % CONFIG)
        anyone.sync(CONFIG)
        check(anyone.get(CONFIG)[0] == data, "a read after the reconfig shows %r" % anyone.get(CONFIG)[0])

        data, stat = admin.reconfig(None, removed, None, from_config=new_version)
        two, removed_version = parse(data, 2)
        staying = [line for line in members if not line.startswith("server.%s=" % removed)]
        check(two == staying, "members after removing %s: %r" % (removed, two))
        check(removed_version == stat.mzxid and removed_version > new_version, "version %x" % removed_version)
        anyone.sync(CONFIG)
        check(anyone.get(CONFIG)[0] == data, "a read after the removal shows %r" % anyone.get(CONFIG)[0])
        print("PASS reconfig")
    finally:
        admin.stop()
        anyone.stop()
        admin.close()
        anyone.close()


if __name__ == "__main__":
    main()
