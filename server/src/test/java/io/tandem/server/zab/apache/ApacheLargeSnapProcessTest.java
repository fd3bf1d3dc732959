package io.tandem.server.zab.apache;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 14: a Tandem leader ({@code tandem.quorumProtocol=apache}) holding a large tree syncs a real Apache ZooKeeper
 * 3.9.5 follower process that starts empty by SNAP (Apache's snapshot serialization, streamed from the live tree),
 * and the follower then serves the same tree: the same znode count and the same digest of every path, data, version
 * and mzxid, read through clients of each. {@code -Dtandem.largeSnap.znodes} sets the size (20000 by default, so it
 * stays a test; bench/run-apache-large-snap.sh runs 200000 and prints the figures, docs/BENCHMARKS.md has them).
 */
@Timeout(value = 1800, unit = TimeUnit.SECONDS)
class ApacheLargeSnapProcessTest {
    private static final int ZNODES = Integer.getInteger("tandem.largeSnap.znodes", 20_000);
    private static final int PER_PARENT = 1000;
    private static final int IN_FLIGHT_MAX = 2000;

    @TempDir
    Path temp;

    @Test
    void anApacheFollowerStartedEmptySyncsALargeTreeFromATandemLeaderBySnapAndServesItWhole() throws Exception {
        MixedEnsemble ensemble = new MixedEnsemble(temp, 3);
        // A short committed log, so that the empty Apache member is far behind for a DIFF and gets a SNAP.
        // The Tandem member's heap follows the Apache one's when the benchmark raises it (the last -Xmx wins).
        List<String> tandemOptions = System.getProperty("tandem.apacheHeap") == null
                ? List.of("-Dzookeeper.commitLogCount=5")
                : List.of("-Dzookeeper.commitLogCount=5", "-Xmx" + ApacheQuorumProcess.HEAP);
        try (TandemApacheModeProcess leader = ensemble.startTandem(tandemOptions, List.of());
             ZkClients clients = new ZkClients()) {
            ensemble.awaitTandemListening(leader);
            try (ApacheQuorumProcess one = ensemble.startApache(1)) {
                ensemble.awaitTandem(leader, "leader");
                ZooKeeper onTandem = clients.connect(ensemble.tandem);
                long fillStart = System.nanoTime();
                fill(onTandem);
                long fillMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - fillStart);

                long syncStart = System.nanoTime();
                try (ApacheQuorumProcess two = ensemble.startApache(2)) {
                    assertTrue(ApacheQuorumProcess.await(() -> two.mode().equals("follower"), 600_000),
                            () -> "the empty Apache member never followed:\n" + two.logTail() + "\nTandem log:\n"
                                    + leader.logTail());
                    long syncMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - syncStart);
                    assertTrue(leader.logText().matches("(?s).*syncing learner 2 \\(last zxid 0x0\\) by SNAP.*"),
                            leader::logTail);
                    ZooKeeper onTwo = clients.connect(ensemble.ports(2));
                    ZkClients.sync(onTwo, "/");
                    ZkClients.sync(onTandem, "/");
                    assertEquals(ZNODES + ZNODES / PER_PARENT, onTandem.getAllChildrenNumber("/big"));
                    assertEquals(onTandem.getAllChildrenNumber("/big"), onTwo.getAllChildrenNumber("/big"),
                            "the Apache follower's znode count under /big");
                    long walkStart = System.nanoTime();
                    String onLeader = digest(onTandem);
                    long walkMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - walkStart);
                    assertEquals(onLeader, digest(onTwo), "the Apache follower's tree digest");
                    System.out.printf("large SNAP to an Apache 3.9.5 follower: %d znodes (%d bytes of data each),"
                                    + " fill %d ms, Apache start to following (SNAP included) %d ms, tree walk %d ms,"
                                    + " digest %s%n", ZNODES, 100, fillMs, syncMs, walkMs, onLeader);
                }
            }
        }
    }

    /** ZNODES znodes of 100 bytes under /big/pN (1000 to a parent), created asynchronously. */
    private static void fill(ZooKeeper zk) throws Exception {
        zk.create("/big", null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        for (int parent = 0; parent < ZNODES / PER_PARENT; parent++) {
            zk.create("/big/p" + parent, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        }
        Semaphore window = new Semaphore(IN_FLIGHT_MAX);
        AtomicReference<String> failure = new AtomicReference<>();
        for (int i = 0; i < ZNODES && failure.get() == null; i++) {
            byte[] data = String.format("%0100d", i).getBytes(StandardCharsets.US_ASCII);
            window.acquire();
            zk.create("/big/p" + (i / PER_PARENT) + "/n" + i, data, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                    (rc, path, ctx, name) -> {
                        if (rc != KeeperException.Code.OK.intValue()) {
                            failure.compareAndSet(null, path + ": " + KeeperException.Code.get(rc));
                        }
                        window.release();
                    }, null);
        }
        window.acquire(IN_FLIGHT_MAX);
        window.release(IN_FLIGHT_MAX);
        assertEquals(null, failure.get(), "every create succeeded");
    }

    /** SHA-256 over every znode under /big: path, data, version and mzxid, in path order. */
    private static String digest(ZooKeeper zk) throws Exception {
        Map<String, String> nodes = new ConcurrentSkipListMap<>();
        Semaphore window = new Semaphore(IN_FLIGHT_MAX);
        AtomicReference<String> failure = new AtomicReference<>();
        for (String parent : zk.getChildren("/big", false)) {
            for (String child : zk.getChildren("/big/" + parent, false)) {
                window.acquire();
                zk.getData("/big/" + parent + "/" + child, false, (rc, path, ctx, data, stat) -> {
                    if (rc != KeeperException.Code.OK.intValue()) {
                        failure.compareAndSet(null, path + ": " + KeeperException.Code.get(rc));
                    } else {
                        nodes.put(path, new String(data, StandardCharsets.US_ASCII) + " v" + stat.getVersion()
                                + " m" + Long.toHexString(stat.getMzxid()));
                    }
                    window.release();
                }, null);
            }
        }
        window.acquire(IN_FLIGHT_MAX);
        assertEquals(null, failure.get(), "every read succeeded");
        assertEquals(ZNODES, nodes.size());
        MessageDigest sha = MessageDigest.getInstance("SHA-256");
        for (Map.Entry<String, String> node : nodes.entrySet()) {
            sha.update((node.getKey() + "\0" + node.getValue() + "\n").getBytes(StandardCharsets.US_ASCII));
        }
        return HexFormat.of().formatHex(sha.digest());
    }
}
