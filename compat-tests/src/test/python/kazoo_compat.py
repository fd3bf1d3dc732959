#!/usr/bin/python3
"""kazoo (Debian python3-kazoo) against a ZooKeeper-protocol server.

Usage: kazoo_compat.py HOST:PORT SCENARIO
Each scenario checks its own results, prints "PASS <scenario>" and exits 0; any mismatch raises and exits non-zero
with the reason on stderr. Run from JUnit (KazooCompatTest) so it goes against the selected target.
"""
import sys
import threading
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import BadVersionError, NodeExistsError, NoNodeError, NotEmptyError
from kazoo.protocol.states import EventType


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def connect(hosts):
    client = KazooClient(hosts=hosts, timeout=10.0)
    client.start(timeout=15)
    return client


def crud(hosts, root):
    zk = connect(hosts)
    try:
        created = zk.create(root + "/node", b"v1", makepath=True)
        check(created == root + "/node", "create returned %r" % created)
        data, stat = zk.get(root + "/node")
        check(data == b"v1" and stat.version == 0 and stat.data_length == 2, "get: %r %r" % (data, stat))
        check(stat.czxid == stat.mzxid, "fresh node czxid != mzxid: %r" % (stat,))
        stat = zk.set(root + "/node", b"v2", version=0)
        check(stat.version == 1, "set version %r" % (stat,))
        try:
            zk.set(root + "/node", b"v3", version=0)
            raise AssertionError("stale set succeeded")
        except BadVersionError:
            pass
        try:
            zk.create(root + "/node")
            raise AssertionError("duplicate create succeeded")
        except NodeExistsError:
            pass
        seq = zk.create(root + "/seq-", sequence=True)
        check(seq == root + "/seq-0000000001", "sequential name %r" % seq)
        eph = zk.create(root + "/eph", ephemeral=True)
        check(zk.exists(eph).ephemeralOwner == zk.client_id[0], "ephemeral owner")
        children = sorted(zk.get_children(root))
        check(children == ["eph", "node", "seq-0000000001"], "children %r" % children)
        zk.create(root + "/node/child")
        try:
            zk.delete(root + "/node")
            raise AssertionError("delete of non-empty node succeeded")
        except NotEmptyError:
            pass
        zk.delete(root + "/node", recursive=True)
        check(zk.exists(root + "/node") is None, "node still exists")
        try:
            zk.get(root + "/missing")
            raise AssertionError("get of missing node succeeded")
        except NoNodeError:
            pass
    finally:
        zk.stop()
        zk.close()


def watches(hosts, root):
    zk = connect(hosts)
    writer = connect(hosts)
    try:
        zk.ensure_path(root)
        events = []
        fired = threading.Event()

        def on_event(event):
            events.append((event.type, event.path))
            fired.set()

        zk.exists(root + "/w", watch=on_event)
        writer.create(root + "/w", b"")
        check(fired.wait(10), "no NodeCreated event")
        check(events == [(EventType.CREATED, root + "/w")], "events %r" % events)

        events.clear()
        fired.clear()
        zk.get_children(root, watch=on_event)
        writer.create(root + "/w2", b"")
        check(fired.wait(10), "no child event")
        check(events == [(EventType.CHILD, root)], "events %r" % events)

        seen = []
        changed = threading.Event()

        @zk.DataWatch(root + "/w")
        def data_watch(data, stat):
            seen.append(data)
            if data == b"second":
                changed.set()

        writer.set(root + "/w", b"first")
        writer.set(root + "/w", b"second")
        check(changed.wait(10), "DataWatch did not see the second value: %r" % seen)

        children_seen = []
        grew = threading.Event()

        @zk.ChildrenWatch(root)
        def children_watch(children):
            children_seen.append(sorted(children))
            if "w3" in children:
                grew.set()

        writer.create(root + "/w3", b"")
        check(grew.wait(10), "ChildrenWatch did not see w3: %r" % children_seen)
    finally:
        writer.stop()
        writer.close()
        zk.stop()
        zk.close()


def transaction(hosts, root):
    zk = connect(hosts)
    try:
        zk.ensure_path(root)
        zk.create(root + "/existing", b"x")
        tx = zk.transaction()
        tx.create(root + "/t1", b"a")
        tx.set_data(root + "/existing", b"y")
        tx.check(root + "/existing", 1)
        results = tx.commit()
        check(results[0] == root + "/t1", "create result %r" % (results[0],))
        check(results[1].version == 1, "set_data result %r" % (results[1],))
        check(results[2] is True, "check result %r" % (results[2],))

        tx = zk.transaction()
        tx.create(root + "/t2", b"a")
        tx.delete(root + "/missing")
        results = tx.commit()
        check(isinstance(results[1], NoNodeError), "failing op result %r" % (results,))
        check(zk.exists(root + "/t2") is None, "failed transaction left t2 behind")
    finally:
        zk.stop()
        zk.close()


def lock(hosts, root):
    clients = [connect(hosts) for _ in range(3)]
    try:
        inside = [0]
        max_inside = [0]
        guard = threading.Lock()
        errors = []

        def worker(client, name):
            try:
                lock = client.Lock(root + "/lock", name)
                for _ in range(3):
                    with lock:
                        with guard:
                            inside[0] += 1
                            max_inside[0] = max(max_inside[0], inside[0])
                        threading.Event().wait(0.01)
                        with guard:
                            inside[0] -= 1
            except Exception as error:  # noqa: BLE001 - reported below
                errors.append(error)

        threads = [threading.Thread(target=worker, args=(c, "w%d" % i)) for i, c in enumerate(clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        check(not errors, "lock errors %r" % errors)
        check(max_inside[0] == 1, "more than one holder at once: %d" % max_inside[0])
    finally:
        for client in clients:
            client.stop()
            client.close()


def election(hosts, root):
    clients = [connect(hosts) for _ in range(2)]
    try:
        leaders = []
        elected = threading.Event()
        release = threading.Event()

        def lead(name):
            leaders.append(name)
            elected.set()
            release.wait(15)

        first = clients[0].Election(root + "/election", "first")
        second = clients[1].Election(root + "/election", "second")
        t1 = threading.Thread(target=first.run, args=(lead, "first"))
        t1.start()
        check(elected.wait(10), "no first leader")
        t2 = threading.Thread(target=second.run, args=(lead, "second"))
        t2.start()
        contenders = []
        for _ in range(100):
            contenders = second.contenders()
            if len(contenders) == 2:
                break
            threading.Event().wait(0.05)
        check(contenders == ["first", "second"], "contenders %r" % contenders)
        elected.clear()
        release.set()
        check(elected.wait(10), "no second leader")
        t1.join(10)
        t2.join(10)
        check(leaders == ["first", "second"], "leaders %r" % leaders)
    finally:
        for client in clients:
            client.stop()
            client.close()


SCENARIOS = {"crud": crud, "watches": watches, "transaction": transaction, "lock": lock, "election": election}


def main():
    hosts, scenario = sys.argv[1], sys.argv[2]
    root = "/kazoo-%s-%s" % (scenario, uuid.uuid4().hex[:8])
    SCENARIOS[scenario](hosts, root)
    print("PASS " + scenario)


if __name__ == "__main__":
    main()
