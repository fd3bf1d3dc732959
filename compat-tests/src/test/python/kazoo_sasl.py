#!/usr/bin/python3
"""kazoo (Debian python3-kazoo with python3-pure-sasl) authenticating with SASL DIGEST-MD5.

Usage: kazoo_sasl.py HOST:PORT SCENARIO
The server's JAAS Server section holds alice/alice-secret and bob/bob-secret (see KazooSaslCompatTest). Each scenario
checks its own results, prints "PASS <scenario>" and exits 0; any mismatch raises and exits non-zero.
"""
import sys
import threading
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.protocol.states import KeeperState
from kazoo.security import ACL, Id, Permissions


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def client(hosts, user, password):
    return KazooClient(hosts=hosts, timeout=10.0, connection_retry={"max_tries": 0},
                       sasl_options={"mechanism": "DIGEST-MD5", "username": user, "password": password})


def acl(hosts, root):
    alice = client(hosts, "alice", "alice-secret")
    bob = client(hosts, "bob", "bob-secret")
    alice.start(timeout=15)
    bob.start(timeout=15)
    try:
        alice_only = [ACL(Permissions.ALL, Id("sasl", "alice"))]
        alice.create(root, b"secret", acl=alice_only)
        data, _ = alice.get(root)
        check(data == b"secret", "alice reads %r" % data)
        acls, _ = alice.get_acls(root)
        check([(a.perms, a.id.scheme, a.id.id) for a in acls] == [(31, "sasl", "alice")], "acl %r" % acls)
        for attempt in (lambda: bob.get(root), lambda: bob.set(root, b"x"), lambda: bob.create(root + "/child")):
            try:
                attempt()
                raise AssertionError("bob was let in")
            except NoAuthError:
                pass
        alice.delete(root)
    finally:
        alice.stop()
        bob.stop()


def wrong_password(hosts, root):
    mallory = client(hosts, "alice", "guess")
    states = []
    failed = threading.Event()

    def watch(state):
        states.append(state)

    mallory.add_listener(watch)
    original = mallory._session_callback

    def session(state):
        if state == KeeperState.AUTH_FAILED:
            failed.set()
        original(state)

    mallory._session_callback = session
    try:
        try:
            mallory.start(timeout=10)
            raise AssertionError("a wrong password connected")
        except Exception as e:  # kazoo reports the failed start as a time-out, after AUTH_FAILED
            check(failed.wait(5), "no AUTH_FAILED: %r (%r)" % (e, states))
        check(not mallory.connected, "connected after AUTH_FAILED")
    finally:
        mallory.stop()
    # The server still serves everyone else.
    alice = client(hosts, "alice", "alice-secret")
    alice.start(timeout=15)
    try:
        check(alice.exists("/") is not None, "root not served")
    finally:
        alice.stop()


SCENARIOS = {"acl": acl, "wrong_password": wrong_password}

if __name__ == "__main__":
    hosts, scenario = sys.argv[1], sys.argv[2]
    SCENARIOS[scenario](hosts, "/kazoo-sasl-" + uuid.uuid4().hex[:8])
    print("PASS " + scenario)
