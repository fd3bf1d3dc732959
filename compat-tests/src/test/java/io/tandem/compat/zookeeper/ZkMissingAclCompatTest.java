package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.jute.Record;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Op;
import org.apache.zookeeper.OpResult;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooDefs.OpCode;
import org.apache.zookeeper.ZooDefs.Perms;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.ACL;
import org.apache.zookeeper.data.ClientInfo;
import org.apache.zookeeper.data.Id;
import org.apache.zookeeper.data.Stat;
import org.apache.zookeeper.proto.CheckWatchesRequest;
import org.apache.zookeeper.proto.ReconfigRequest;
import org.apache.zookeeper.proto.RemoveWatchesRequest;
import org.apache.zookeeper.server.auth.DigestAuthenticationProvider;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * The negative suite of issue 11 for ZooKeeper ACLs: every operation a client can send, by a session holding no id the
 * node's ACL names, gets exactly Apache 3.9's answer, and no watch delivers a path the watcher may not read. Each
 * expectation is what Apache ZooKeeper 3.9.5 answers (run with {@code -Dcompat.target=apache}); the whole table is
 * compared at once so a difference names every operation that differs.
 */
@ExtendWith(ZkTargetExtension.class)
class ZkMissingAclCompatTest {
    private static final String NO_AUTH = "NOAUTH";
    private static ZkTarget target;
    private static ZooKeeper anonymous;
    private static ZooKeeper alice;

    @BeforeAll
    static void connect(ZkTarget started) throws Exception {
        target = started;
        anonymous = Zk.connect(target.connectString());
        alice = Zk.connect(target.connectString());
        alice.addAuthInfo("digest", Zk.utf8("alice:alice-password"));
    }

    @AfterAll
    static void close() throws Exception {
        anonymous.close();
        alice.close();
    }

    /** Alice's own ACL: every permission for her digest id, nothing for anyone else. */
    private static List<ACL> aliceOnly() throws Exception {
        return new ArrayList<>(List.of(new ACL(Perms.ALL,
                new Id("digest", DigestAuthenticationProvider.generateDigest("alice:alice-password")))));
    }

    private interface Call {
        Object run() throws Exception;
    }

    /** "OK <result>" or the error code's name: what the client saw, in a form one table can compare. */
    private static String outcome(Call call) {
        try {
            Object result = call.run();
            return result == null ? "OK" : "OK " + result;
        } catch (KeeperException e) {
            return e.code().name();
        } catch (Exception e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    /** The error code of each result of a multi or multiRead, in order. */
    private static String results(List<OpResult> results) {
        List<String> codes = new ArrayList<>();
        for (OpResult result : results) {
            codes.add(result instanceof OpResult.ErrorResult error
                    ? KeeperException.Code.get(error.getErr()).name() : result.getClass().getSimpleName());
        }
        return codes.toString();
    }

    private static String multiFailure(List<Op> ops) {
        try {
            anonymous.multi(ops);
            return "OK";
        } catch (KeeperException e) {
            return e.code().name() + " " + results(e.getResults());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    private static String raw(int opCode, Record request) {
        try (RawZkConnection connection = new RawZkConnection(target)) {
            return KeeperException.Code.get(connection.request(opCode, request)).name();
        } catch (Exception e) {
            return e.getClass().getSimpleName() + ": " + e.getMessage();
        }
    }

    @Test
    void everyOperationOnANodeWhoseAclNamesSomeoneElseShouldGetApachesAnswer(TestInfo info) throws Exception {
        String root = Zk.testRoot(anonymous, "noacl-", info, null);
        String secret = root + "/secret";
        String child = secret + "/child";
        alice.create(secret, Zk.utf8("secret-data"), aliceOnly(), CreateMode.PERSISTENT);
        alice.create(child, Zk.utf8("child-data"), aliceOnly(), CreateMode.PERSISTENT);

        Map<String, String> expected = new LinkedHashMap<>();
        Map<String, String> actual = new LinkedHashMap<>();
        expected.put("create", NO_AUTH);
        actual.put("create", outcome(() -> anonymous.create(secret + "/new", null, Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT)));
        expected.put("create2", NO_AUTH);
        actual.put("create2", outcome(() -> anonymous.create(secret + "/new", null, Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT, new Stat())));
        expected.put("create ephemeral sequential", NO_AUTH);
        actual.put("create ephemeral sequential", outcome(() -> anonymous.create(secret + "/seq-", null,
                Ids.OPEN_ACL_UNSAFE, CreateMode.EPHEMERAL_SEQUENTIAL)));
        expected.put("createContainer", NO_AUTH);
        actual.put("createContainer", outcome(() -> anonymous.create(secret + "/container", null, Ids.OPEN_ACL_UNSAFE,
                CreateMode.CONTAINER)));
        expected.put("createTTL", NO_AUTH);
        actual.put("createTTL", outcome(() -> anonymous.create(secret + "/ttl", null, Ids.OPEN_ACL_UNSAFE,
                CreateMode.PERSISTENT_WITH_TTL, new Stat(), 60_000)));
        expected.put("delete (no DELETE on the parent)", NO_AUTH);
        actual.put("delete (no DELETE on the parent)", outcome(() -> {
            anonymous.delete(child, -1);
            return null;
        }));
        expected.put("exists", NO_AUTH);
        actual.put("exists", outcome(() -> anonymous.exists(secret, false) == null ? "null" : "stat"));
        expected.put("exists of a missing child", "OK null");
        actual.put("exists of a missing child",
                outcome(() -> anonymous.exists(secret + "/missing", false) == null ? "null" : "stat"));
        expected.put("getData", NO_AUTH);
        actual.put("getData", outcome(() -> new String(anonymous.getData(secret, false, null))));
        expected.put("getData of a missing child", "NONODE");
        actual.put("getData of a missing child", outcome(() -> anonymous.getData(secret + "/missing", false, null)));
        expected.put("setData", NO_AUTH);
        actual.put("setData", outcome(() -> anonymous.setData(secret, Zk.utf8("x"), -1) == null ? null : "stat"));
        expected.put("getACL", NO_AUTH);
        actual.put("getACL", outcome(() -> anonymous.getACL(secret, new Stat())));
        expected.put("setACL", NO_AUTH);
        actual.put("setACL", outcome(() -> anonymous.setACL(secret, Ids.OPEN_ACL_UNSAFE, -1) == null ? null : "stat"));
        expected.put("getChildren", NO_AUTH);
        actual.put("getChildren", outcome(() -> anonymous.getChildren(secret, false)));
        expected.put("getChildren2", NO_AUTH);
        actual.put("getChildren2", outcome(() -> anonymous.getChildren(secret, false, new Stat())));
        expected.put("getAllChildrenNumber", NO_AUTH);
        actual.put("getAllChildrenNumber", outcome(() -> anonymous.getAllChildrenNumber(secret)));
        expected.put("getEphemerals", "OK []");
        actual.put("getEphemerals", outcome(() -> anonymous.getEphemerals(secret)));
        expected.put("sync", "OK");
        actual.put("sync", outcome(() -> {
            anonymous.sync(secret);
            return null;
        }));
        // Apache registers a persistent watch without a permission check; it filters what the watch delivers
        // instead (below, watchesShouldNotDeliverChangesOfNodesTheWatcherMayNotRead).
        expected.put("addWatch persistent", "OK");
        actual.put("addWatch persistent", outcome(() -> {
            anonymous.addWatch(secret, event -> { }, AddWatchMode.PERSISTENT);
            return null;
        }));
        expected.put("addWatch persistent recursive", "OK");
        actual.put("addWatch persistent recursive", outcome(() -> {
            anonymous.addWatch(secret, event -> { }, AddWatchMode.PERSISTENT_RECURSIVE);
            return null;
        }));
        expected.put("checkWatches", "NOWATCHER");
        actual.put("checkWatches", raw(OpCode.checkWatches, new CheckWatchesRequest(secret, 1)));
        expected.put("removeWatches", "NOWATCHER");
        actual.put("removeWatches", raw(OpCode.removeWatches, new RemoveWatchesRequest(secret, 1)));
        expected.put("reconfig (standalone)", "RECONFIGDISABLED");
        actual.put("reconfig (standalone)", raw(OpCode.reconfig,
                new ReconfigRequest(null, null, "server.1=127.0.0.1:2888:3888:participant;2181", -1)));
        expected.put("multi setData", "NOAUTH [NOAUTH]");
        actual.put("multi setData", multiFailure(List.of(Op.setData(secret, Zk.utf8("x"), -1))));
        expected.put("multi check", "NOAUTH [NOAUTH]");
        actual.put("multi check", multiFailure(List.of(Op.check(secret, -1))));
        expected.put("multi create then delete", "NOAUTH [NOAUTH, RUNTIMEINCONSISTENCY]");
        actual.put("multi create then delete", multiFailure(List.of(
                Op.create(secret + "/m", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT), Op.delete(child, -1))));
        expected.put("multiRead", "OK [NOAUTH, NOAUTH]");
        actual.put("multiRead", outcome(() -> results(anonymous.multi(List.of(
                Op.getData(secret), Op.getChildren(secret))))));
        expected.put("whoAmI", "OK [ip:127.0.0.1]");
        actual.put("whoAmI", outcome(() -> {
            List<String> ids = new ArrayList<>();
            for (ClientInfo info1 : anonymous.whoAmI()) {
                ids.add(info1.getAuthScheme() + ":" + info1.getUser());
            }
            return ids;
        }));
        assertEquals(expected, actual, "answers of " + target.name());

        // Nothing changed: alice still reads her own data and her node keeps its only child.
        assertEquals("secret-data", new String(alice.getData(secret, false, null)));
        assertEquals(List.of("child"), alice.getChildren(secret, false));
        assertEquals(aliceOnly(), alice.getACL(secret, new Stat()));
    }

    @Test
    void watchesShouldNotDeliverChangesOfNodesTheWatcherMayNotRead(TestInfo info) throws Exception {
        String root = Zk.testRoot(anonymous, "noaclwatch-", info, null);
        String secret = root + "/secret";
        String open = root + "/open";
        alice.create(secret, null, aliceOnly(), CreateMode.PERSISTENT);
        alice.create(open, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);

        BlockingQueue<String> recursive = new LinkedBlockingQueue<>();
        anonymous.addWatch(root, (WatchedEvent e) -> recursive.add(e.getType() + " " + e.getPath()),
                AddWatchMode.PERSISTENT_RECURSIVE);
        BlockingQueue<String> exists = new LinkedBlockingQueue<>();
        Watcher existsWatcher = (WatchedEvent e) -> exists.add(e.getType() + " " + e.getPath());
        // A watch on a missing node needs no permission; the node alice creates there is hers alone.
        assertEquals(null, anonymous.exists(secret + "/later", existsWatcher));
        assertEquals(null, anonymous.exists(open + "/later", existsWatcher));

        alice.setData(secret, Zk.utf8("changed"), -1);
        alice.create(secret + "/later", null, aliceOnly(), CreateMode.PERSISTENT);
        alice.create(open + "/later", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        alice.setData(open, Zk.utf8("changed"), -1);
        Zk.barrier(alice);
        Zk.barrier(anonymous);

        // Every event for the open nodes arrives; none names a node the watcher may not read.
        List<String> events = new ArrayList<>();
        while (events.size() < 2) {
            String event = recursive.poll(Zk.WAIT_SECONDS, TimeUnit.SECONDS);
            if (event == null) {
                break;
            }
            events.add(event);
        }
        Zk.barrier(anonymous);
        recursive.drainTo(events);
        assertEquals(List.of("NodeCreated " + open + "/later", "NodeDataChanged " + open), events,
                "recursive watch events on " + target.name());
        List<String> existsEvents = new ArrayList<>();
        String first = exists.poll(Zk.WAIT_SECONDS, TimeUnit.SECONDS);
        if (first != null) {
            existsEvents.add(first);
        }
        Zk.barrier(anonymous);
        exists.drainTo(existsEvents);
        assertEquals(List.of("NodeCreated " + open + "/later"), existsEvents, "exists watch events on " + target.name());
    }
}
