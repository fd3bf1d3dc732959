#!/usr/bin/python3
"""kazoo (Debian python3-kazoo) over TLS to the ZooKeeper secure client port (secureClientPort).

Usage: kazoo_tls.py HOST:SECURE_PORT CA_PEM CERT_PEM KEY_PEM SCENARIO
CA_PEM is the server's certificate, CERT_PEM/KEY_PEM the client's key pair (its subject is CN=client), all made at
test time by KazooTlsCompatTest. Each scenario checks its own results, prints "PASS <scenario>" and exits 0; any
mismatch raises and exits non-zero.
"""
import sys
import threading
import uuid

from kazoo.client import KazooClient
from kazoo.exceptions import NoAuthError
from kazoo.handlers.threading import KazooTimeoutError
from kazoo.security import ACL, Id, Permissions


def check(condition, message):
    if not condition:
        raise AssertionError(message)


def client(hosts, ca, cert, key):
    return KazooClient(hosts=hosts, timeout=10.0, connection_retry={"max_tries": 0}, use_ssl=True, ca=ca,
                       certfile=cert, keyfile=key, verify_certs=True)


def crud_watch(hosts, ca, cert, key, root):
    zk = client(hosts, ca, cert, key)
    zk.start(timeout=15)
    try:
        zk.create(root + "/a", b"one", makepath=True)
        data, stat = zk.get(root + "/a")
        check(data == b"one" and stat.version == 0, "read %r %r" % (data, stat))
        changed = threading.Event()
        events = []

        def data_watch(event):
            events.append(event)
            changed.set()

        zk.get(root + "/a", watch=data_watch)
        zk.set(root + "/a", b"two")
        check(changed.wait(10), "no data watch event")
        check(events[0].type == "CHANGED" and events[0].path == root + "/a", "event %r" % events)
        children = threading.Event()
        zk.get_children(root, watch=lambda event: children.set())
        zk.create(root + "/b", b"")
        check(children.wait(10), "no child watch event")
        check(sorted(zk.get_children(root)) == ["a", "b"], "children %r" % zk.get_children(root))
        data, stat = zk.get(root + "/a")
        check(data == b"two" and stat.version == 1, "read after set %r %r" % (data, stat))
        zk.delete(root, recursive=True)
        check(zk.exists(root) is None, "deleted")
    finally:
        zk.stop()


def x509_acl(hosts, ca, cert, key, root):
    # authProvider.x509 makes the client certificate's subject the connection's x509 id, as in Apache.
    zk = client(hosts, ca, cert, key)
    zk.start(timeout=15)
    try:
        only_client = [ACL(Permissions.ALL, Id("x509", "CN=client"))]
        zk.create(root, b"mine", acl=only_client)
        data, _ = zk.get(root)
        check(data == b"mine", "the certificate's owner reads %r" % data)
        acls, _ = zk.get_acls(root)
        check([(a.perms, a.id.scheme, a.id.id) for a in acls] == [(31, "x509", "CN=client")], "acl %r" % acls)
        zk.delete(root)
    finally:
        zk.stop()


def untrusted_server(hosts, ca, cert, key, root):
    # The client's own certificate as the only CA: the server's certificate is not trusted, so no session.
    zk = client(hosts, cert, cert, key)
    try:
        zk.start(timeout=5)
        raise AssertionError("connected to a server whose certificate is not trusted")
    except KazooTimeoutError:
        pass
    finally:
        zk.stop()
        zk.close()


SCENARIOS = {"crud_watch": crud_watch, "x509_acl": x509_acl, "untrusted_server": untrusted_server}

if __name__ == "__main__":
    hosts, ca, cert, key, scenario = sys.argv[1:6]
    SCENARIOS[scenario](hosts, ca, cert, key, "/kazoo-tls-" + uuid.uuid4().hex[:8])
    print("PASS " + scenario)
