#!/usr/bin/python3
"""kazoo's read-only sessions (read_only=True) against an ensemble member cut off from its quorum.

Usage: kazoo_readonly.py HOST:PORT,HOST:PORT,... PATH
The test has written PATH (b"before") and stopped all members but the first given (which runs with
readonlymode.enabled=true). A plain client must not get a session; a read-only one connects CONNECTED_RO, reads PATH,
and gets NotReadOnlyCallError for a write. Prints "READY" and waits for a line on stdin (meanwhile the test brings a
second member back); then kazoo must find the read-write server by itself (it pings with isro), get a real session,
write and read back; prints "PASS readonly".
"""
import sys
import time

from kazoo.client import KazooClient
from kazoo.exceptions import NotReadOnlyCallError
from kazoo.protocol.states import KeeperState


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    hosts, path = sys.argv[1], sys.argv[2]
    first = hosts.split(",")[0]

    plain = KazooClient(hosts=first, timeout=10.0)
    try:
        plain.start(timeout=3)
        raise AssertionError("a read-write client got a session from a read-only member")
    except plain.handler.timeout_exception:
        pass
    finally:
        plain.stop()
        plain.close()

    zk = KazooClient(hosts=hosts, timeout=10.0, read_only=True)
    zk.start(timeout=15)
    try:
        check(zk.client_state == KeeperState.CONNECTED_RO, "state %s, not CONNECTED_RO" % zk.client_state)
        data, _ = zk.get(path)
        check(data == b"before", "read %r" % data)
        check(sorted(zk.get_children("/")) == sorted(["zookeeper", path.strip("/").split("/")[0]]),
              "children %r" % zk.get_children("/"))
        try:
            zk.create(path + "-new", b"x")
            raise AssertionError("a write succeeded on a read-only member")
        except NotReadOnlyCallError:
            pass
        print("READY", flush=True)
        sys.stdin.readline()

        deadline = time.time() + 60
        while zk.client_state != KeeperState.CONNECTED and time.time() < deadline:
            time.sleep(0.1)
        check(zk.client_state == KeeperState.CONNECTED, "state %s, not CONNECTED" % zk.client_state)
        zk.retry(zk.create, path + "-rw", b"rw", ephemeral=True)
        data, stat = zk.retry(zk.get, path + "-rw")
        check(data == b"rw", "read back %r" % data)
        check(stat.ephemeralOwner == zk.client_id[0], "ephemeral owned by %x" % stat.ephemeralOwner)
        print("PASS readonly", flush=True)
    finally:
        zk.stop()
        zk.close()


if __name__ == "__main__":
    main()
