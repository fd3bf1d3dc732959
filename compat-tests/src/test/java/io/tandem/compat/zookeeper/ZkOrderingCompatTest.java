package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import org.apache.zookeeper.AddWatchMode;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException.Code;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.ZooDefs.Ids;
import org.apache.zookeeper.ZooKeeper;
import org.apache.zookeeper.data.Stat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.extension.ExtendWith;

/** ZooKeeper's ordering guarantees: per-session FIFO replies, read-your-writes, and one global zxid order. */
@ExtendWith(ZkTargetExtension.class)
class ZkOrderingCompatTest {
    private static final int PIPELINED_REQUESTS = 300;

    private static byte[] number(int value) {
        return ByteBuffer.allocate(4).putInt(value).array();
    }

    @Test
    void pipelinedRequestsOfOneSessionShouldCompleteInSubmissionOrderAndSeeEarlierWrites(ZkTarget target, TestInfo info)
            throws Exception {
        String path = "/order-" + info.getTestMethod().orElseThrow().getName();
        try (ZooKeeper zk = Zk.connect(target.connectString())) {
            zk.create(path, number(-1), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            List<String> completions = Collections.synchronizedList(new ArrayList<>());
            List<String> expected = new ArrayList<>();
            CountDownLatch done = new CountDownLatch(2 * PIPELINED_REQUESTS);
            for (int i = 0; i < PIPELINED_REQUESTS; i++) {
                int value = i;
                expected.add("set " + i + " version " + (i + 1));
                expected.add("get " + i);
                zk.setData(path, number(i), -1, (rc, p, ctx, stat) -> {
                    completions.add(rc == Code.OK.intValue() ? "set " + value + " version " + stat.getVersion() : "rc " + rc);
                    done.countDown();
                }, null);
                // Issued before the set's reply: must still see it.
                zk.getData(path, false, (rc, p, ctx, data, stat) -> {
                    completions.add(rc == Code.OK.intValue() ? "get " + ByteBuffer.wrap(data).getInt() : "rc " + rc);
                    done.countDown();
                }, null);
            }
            Zk.await(done, "all pipelined replies");
            assertEquals(expected, completions);
        }
    }

    @Test
    void everySessionShouldObserveChangesInTheSameZxidOrder(ZkTarget target, TestInfo info) throws Exception {
        String root = "/order-" + info.getTestMethod().orElseThrow().getName();
        try (ZooKeeper writerA = Zk.connect(target.connectString());
             ZooKeeper writerB = Zk.connect(target.connectString())) {
            writerA.create(root, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            Zk.EventRecorder first = new Zk.EventRecorder();
            Zk.EventRecorder second = new Zk.EventRecorder();
            ZooKeeper observerOne = Zk.connect(target.connectString());
            ZooKeeper observerTwo = Zk.connect(target.connectString());
            try {
                observerOne.addWatch(root, first, AddWatchMode.PERSISTENT_RECURSIVE);
                observerTwo.addWatch(root, second, AddWatchMode.PERSISTENT_RECURSIVE);
                CountDownLatch written = new CountDownLatch(40);
                for (int i = 0; i < 20; i++) {
                    writerA.create(root + "/a" + i, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                            (rc, p, ctx, name) -> written.countDown(), null);
                    writerB.create(root + "/b" + i, null, Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                            (rc, p, ctx, name) -> written.countDown(), null);
                }
                Zk.await(written, "all creates");
                List<String> seenByOne = drain(first, 40);
                List<String> seenByTwo = drain(second, 40);
                assertEquals(seenByOne, seenByTwo, "both sessions see the same global order");
                // And that order is the czxid order.
                List<Long> czxids = new ArrayList<>();
                for (String path : seenByOne) {
                    Stat stat = writerA.exists(path, false);
                    czxids.add(stat.getCzxid());
                }
                List<Long> sorted = new ArrayList<>(czxids);
                Collections.sort(sorted);
                assertEquals(sorted, czxids);
                // Each writer's own creates keep its submission order.
                List<String> fromA = seenByOne.stream().filter(p -> p.startsWith(root + "/a")).toList();
                for (int i = 0; i < fromA.size(); i++) {
                    assertEquals(root + "/a" + i, fromA.get(i));
                }
            } finally {
                observerOne.close();
                observerTwo.close();
            }
        }
    }

    private static List<String> drain(Zk.EventRecorder recorder, int count) throws InterruptedException {
        List<String> paths = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            WatchedEvent event = recorder.next();
            assertEquals(EventType.NodeCreated, event.getType());
            paths.add(event.getPath());
        }
        return paths;
    }

    @Test
    void aSyncFollowedByAReadShouldSeeAnotherSessionsCompletedWrite(ZkTarget target, TestInfo info) throws Exception {
        String path = "/order-" + info.getTestMethod().orElseThrow().getName();
        try (ZooKeeper writer = Zk.connect(target.connectString());
             ZooKeeper reader = Zk.connect(target.connectString())) {
            writer.create(path, number(1), Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
            writer.setData(path, number(2), -1);
            reader.sync(path);
            assertArrayEquals(number(2), reader.getData(path, false, null));
            assertTrue(reader.exists(path, false).getMzxid() > 0);
        }
    }
}
