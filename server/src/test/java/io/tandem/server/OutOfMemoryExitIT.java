package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A node whose heap fills up stops at once with exit status 3 instead of staying up and answering nothing (it used to
 * log OutOfMemoryError on its event loops and sit there), and no write it acknowledged is lost: started again with a
 * larger heap on the same data, every acknowledged znode is there. Runs {@code bin/tandem start} from the archive of
 * this build (failsafe, after package), as a supervisor would.
 */
class OutOfMemoryExitIT {
    private static final int DATA_BYTES = 16 * 1024;
    private static final int IN_FLIGHT = 32;

    @TempDir
    Path dir;

    @Test
    void shouldExitWithStatusThreeWhenTheHeapIsFullAndKeepEveryAcknowledgedWrite() throws Exception {
        Path home = Distribution.unpack(dir);
        int port = Distribution.freePort();
        Path data = dir.resolve("data");
        ProcessBuilder small = Distribution.launcher(home, dir, "start", "--roles", "zookeeper",
                "--zk-port", Integer.toString(port), "--data-dir", data.toString(),
                "--set", "clientPortAddress=127.0.0.1");
        // 48 MB holds about two thousand 16 KB znodes; the default heap would take minutes to fill.
        small.environment().put("TANDEM_JAVA_OPTS", "-Xms16m -Xmx48m -XX:+UseSerialGC");
        Distribution.Node node = Distribution.start(small);
        Set<String> acknowledged = ConcurrentHashMap.newKeySet();
        try {
            fillUntilTheConnectionDrops(port, acknowledged);
            assertTrue(node.process().waitFor(120, TimeUnit.SECONDS),
                    "the node exits rather than hanging with a full heap:\n" + node.printed());
            assertEquals(FatalErrors.OUT_OF_MEMORY_EXIT, node.process().exitValue(), node.printed());
        } finally {
            if (node.process().isAlive()) node.process().destroyForcibly();
        }
        assertTrue(acknowledged.size() > 100, "writes were acknowledged before the heap filled: "
                + acknowledged.size());

        ProcessBuilder large = Distribution.launcher(home, dir, "start", "--roles", "zookeeper",
                "--zk-port", Integer.toString(port), "--data-dir", data.toString(),
                "--set", "clientPortAddress=127.0.0.1");
        large.environment().put("TANDEM_JAVA_OPTS", "-Xms16m -Xmx512m -XX:+UseSerialGC");
        Distribution.Node restarted = Distribution.start(large);
        try (ZooKeeper zk = connect(port)) {
            for (String path : acknowledged) {
                Stat stat = zk.exists(path, false);
                assertNotNull(stat, "acknowledged before the exit, so it is there after: " + path);
                assertEquals(DATA_BYTES, stat.getDataLength(), path);
            }
        } finally {
            restarted.process().destroy();
            if (!restarted.process().waitFor(60, TimeUnit.SECONDS)) restarted.process().destroyForcibly();
        }
    }

    /** Creates 16 KB znodes, {@link #IN_FLIGHT} at a time, until the server stops answering; records those it acked. */
    private static void fillUntilTheConnectionDrops(int port, Set<String> acknowledged) throws Exception {
        byte[] payload = new byte[DATA_BYTES];
        AtomicBoolean failed = new AtomicBoolean();
        Semaphore window = new Semaphore(IN_FLIGHT);
        try (ZooKeeper zk = connect(port)) {
            for (int i = 0; !failed.get(); i++) {
                if (!window.tryAcquire(60, TimeUnit.SECONDS)) break; // nothing answered for a minute: hung
                String path = "/fill-" + i;
                zk.create(path, payload, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT, (rc, p, ctx, name) -> {
                    if (rc == KeeperException.Code.OK.intValue()) {
                        acknowledged.add(p);
                    } else {
                        failed.set(true);
                    }
                    window.release();
                }, null);
            }
        }
    }

    private static ZooKeeper connect(int port) throws Exception {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper("127.0.0.1:" + port, 30_000, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) connected.countDown();
        });
        assertTrue(connected.await(30, TimeUnit.SECONDS), "a ZooKeeper session");
        return zk;
    }
}
