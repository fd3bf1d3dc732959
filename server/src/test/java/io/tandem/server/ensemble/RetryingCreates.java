package io.tandem.server.ensemble;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.IntFunction;
import org.apache.zookeeper.CreateMode;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.ZooDefs;
import org.apache.zookeeper.ZooKeeper;

/**
 * Many creates against an ensemble on a loaded box, for the tests that need a big tree: a create that fails with
 * ConnectionLoss (the leader lost its quorum for a moment and dropped its clients) is retried synchronously, and
 * NodeExists on a retry means an earlier attempt committed. Any other failure fails the test.
 */
public final class RetryingCreates {
    /**
     * Creates {@code count} znodes at {@code pathOf(i)} (their parents must exist) holding {@code data}, at most
     * {@code inFlight} at once, each answered within {@code waitSeconds}. Returns how many had to be retried.
     */
    public static int createMany(ZooKeeper zk, int count, IntFunction<String> pathOf, byte[] data, int inFlight,
                                 long waitSeconds) throws Exception {
        Semaphore slots = new Semaphore(inFlight);
        CountDownLatch done = new CountDownLatch(count);
        List<String> lost = Collections.synchronizedList(new ArrayList<>());
        AtomicInteger failures = new AtomicInteger();
        for (int i = 0; i < count; i++) {
            if (!slots.tryAcquire(waitSeconds, TimeUnit.SECONDS)) {
                throw new AssertionError("creates stopped being answered after " + i);
            }
            zk.create(pathOf.apply(i), data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT,
                    (rc, path, ctx, name) -> {
                        if (rc == KeeperException.Code.CONNECTIONLOSS.intValue()) {
                            lost.add(path);
                        } else if (rc != 0) {
                            failures.incrementAndGet();
                        }
                        slots.release();
                        done.countDown();
                    }, null);
        }
        assertTrue(done.await(waitSeconds, TimeUnit.SECONDS), "creates did not complete within " + waitSeconds + " s");
        assertEquals(0, failures.get(), "failed creates");
        for (String path : List.copyOf(lost)) {
            createRetrying(zk, path, data, waitSeconds);
        }
        return lost.size();
    }

    /** One create, retried on ConnectionLoss for up to {@code waitSeconds}; an existing znode counts as created. */
    public static void createRetrying(ZooKeeper zk, String path, byte[] data, long waitSeconds) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(waitSeconds);
        while (true) {
            try {
                zk.create(path, data, ZooDefs.Ids.OPEN_ACL_UNSAFE, CreateMode.PERSISTENT);
                return;
            } catch (KeeperException.NodeExistsException e) {
                return;
            } catch (KeeperException.ConnectionLossException e) {
                assertTrue(System.nanoTime() - deadline < 0, "no leader to create " + path + " within the wait");
                Thread.sleep(50);
            }
        }
    }

    private RetryingCreates() {
    }
}
