#!/usr/bin/python3
"""kazoo fails over between ensemble members and keeps its session.

Usage: kazoo_failover.py HOST:PORT,HOST:PORT,... PATH
Creates an ephemeral node at PATH, prints "READY" and waits for a line on stdin (meanwhile the test stops the
ensemble's leader); then checks that the same session still owns the node and that writes work, prints "PASS failover".
"""
import sys

from kazoo.client import KazooClient
from kazoo.retry import KazooRetry


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def main():
    hosts, path = sys.argv[1], sys.argv[2]
    zk = KazooClient(hosts=hosts, timeout=20.0, command_retry=KazooRetry(max_tries=-1, max_delay=1.0, deadline=60))
    zk.start(timeout=15)
    try:
        session = zk.client_id[0]
        zk.create(path, b"mine", ephemeral=True, makepath=True)
        print("READY", flush=True)
        sys.stdin.readline()
        stat = zk.retry(zk.exists, path)
        check(stat is not None, "ephemeral node lost over the failover")
        check(stat.ephemeralOwner == session, "owner %x is not our session %x" % (stat.ephemeralOwner, session))
        check(zk.client_id[0] == session, "kazoo had to open a new session")
        zk.retry(zk.set, path, b"still-mine")
        data, _ = zk.retry(zk.get, path)
        check(data == b"still-mine", "write after failover read back %r" % data)
        print("PASS failover", flush=True)
    finally:
        zk.stop()
        zk.close()


if __name__ == "__main__":
    main()
