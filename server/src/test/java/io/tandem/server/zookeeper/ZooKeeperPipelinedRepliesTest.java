package io.tandem.server.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Many requests in flight on one session, as load generators and Curator do: the commit thread frames a connection's
 * replies into one buffer per flush, so every reply, watch event and the close-session answer must still arrive
 * complete and in xid order (the official client drops the connection on an out-of-order xid).
 */
class ZooKeeperPipelinedRepliesTest {
    @TempDir
    static Path dir;
    static Tandem tandem;

    @BeforeAll
    static void start() throws Exception {
        tandem = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
    }

    @AfterAll
    static void stop() throws Exception {
        if (tandem != null) {
            tandem.close();
        }
    }

    @Test
    void shouldAnswerThousandsOfPipelinedWritesAndLargeReadsInOrder() throws Exception {
        ZkTestSupport.Events events = new ZkTestSupport.Events();
        ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect(), 30_000, events);
        try {
            // 200 KB per read: one batch's replies pass ReplyWriter.PENDING_REPLY_BYTES_MAX many times over.
            byte[] big = new byte[200 << 10];
            zk.create("/big", big, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.create("/small", new byte[0], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            zk.exists("/small", true);
            int requests = 2000;
            CountDownLatch done = new CountDownLatch(requests);
            List<Integer> order = Collections.synchronizedList(new ArrayList<>());
            List<String> failures = Collections.synchronizedList(new ArrayList<>());
            for (int i = 0; i < requests; i++) {
                int n = i;
                if (i % 10 == 0) {
                    zk.getData("/big", false, (rc, path, ctx, data, stat) -> {
                        if (rc != 0 || data.length != big.length) {
                            failures.add("get " + n + " rc " + rc);
                        }
                        order.add(n);
                        done.countDown();
                    }, null);
                } else {
                    zk.setData("/small", new byte[100], -1, (rc, path, ctx, stat) -> {
                        if (rc != 0) {
                            failures.add("set " + n + " rc " + rc);
                        }
                        order.add(n);
                        done.countDown();
                    }, null);
                }
            }
            assertTrue(done.await(60, TimeUnit.SECONDS), "replies outstanding: " + done.getCount());
            assertEquals(List.of(), failures);
            for (int i = 0; i < requests; i++) {
                assertEquals(i, order.get(i), "callbacks in request order");
            }
            WatchedEvent changed = events.nextNodeEvent();
            assertEquals(EventType.NodeDataChanged, changed.getType());
            assertEquals("/small", changed.getPath());
            assertEquals(requests - requests / 10, zk.exists("/small", false).getVersion());
        } finally {
            zk.close();
        }
    }

    @Test
    void shouldDeliverEveryReplyBeforeTheCloseSessionAnswer() throws Exception {
        ZooKeeper zk = ZkTestSupport.connect(tandem.zookeeperConnect());
        int requests = 500;
        CountDownLatch done = new CountDownLatch(requests);
        List<String> failures = Collections.synchronizedList(new ArrayList<>());
        zk.create("/closing", null, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
        for (int i = 0; i < requests; i++) {
            zk.create("/closing/n" + i, new byte[10], ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                    (rc, path, ctx, name) -> {
                        if (rc != KeeperException.Code.OK.intValue()) {
                            failures.add(path + " rc " + rc);
                        }
                        done.countDown();
                    }, null);
        }
        zk.close(); // queued behind the creates: their replies and then the close answer share a flush
        assertTrue(done.await(30, TimeUnit.SECONDS), "replies outstanding: " + done.getCount());
        assertEquals(List.of(), failures);
        ZooKeeper check = ZkTestSupport.connect(tandem.zookeeperConnect());
        try {
            assertEquals(requests, check.getChildren("/closing", false).size());
        } finally {
            check.close();
        }
    }
}
