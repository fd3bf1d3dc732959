package io.tandem.compat.zookeeper;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;
import org.apache.zookeeper.KeeperException;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.Watcher.Event.EventType;
import org.apache.zookeeper.Watcher.Event.KeeperState;
import org.apache.zookeeper.ZooKeeper;

/** Small helpers shared by the ZooKeeper compatibility tests: connecting, recording events, four-letter words. */
final class Zk {
    static final int SESSION_TIMEOUT_MS = 10_000;
    static final long WAIT_SECONDS = 15;

    private Zk() {
    }

    /** Connects the unmodified Java client and waits until the session is established. */
    /** Creates {@code /<prefix><test method name>} as an open persistent node: each test works below its own root. */
    static String testRoot(ZooKeeper zk, String prefix, org.junit.jupiter.api.TestInfo info, byte[] data)
            throws Exception {
        String path = "/" + prefix + info.getTestMethod().orElseThrow().getName();
        zk.create(path, data, org.apache.zookeeper.ZooDefs.Ids.OPEN_ACL_UNSAFE, org.apache.zookeeper.CreateMode.PERSISTENT);
        return path;
    }

    static byte[] utf8(String text) {
        return text.getBytes(StandardCharsets.UTF_8);
    }

    static ZooKeeper connect(String connectString) throws Exception {
        return connect(connectString, SESSION_TIMEOUT_MS, new EventRecorder());
    }

    static ZooKeeper connect(String connectString, int sessionTimeoutMs, EventRecorder recorder) throws Exception {
        ZooKeeper zk = new ZooKeeper(connectString, sessionTimeoutMs, recorder);
        recorder.awaitState(KeeperState.SyncConnected);
        return zk;
    }

    /** Attaches to an existing session (same id and password). */
    static ZooKeeper attach(String connectString, ZooKeeper owner, EventRecorder recorder) throws Exception {
        ZooKeeper zk = new ZooKeeper(connectString, SESSION_TIMEOUT_MS, recorder, owner.getSessionId(), owner.getSessionPasswd());
        recorder.awaitState(KeeperState.SyncConnected);
        return zk;
    }

    /**
     * Waits until every event the server sent to this client before now has been delivered to its watchers: async
     * callbacks run on the same event thread as watch notifications and the server answers in order, so once this
     * read's callback ran, any notification caused by an earlier change has been delivered too.
     */
    static void barrier(ZooKeeper zk) throws Exception {
        CompletableFuture<Integer> done = new CompletableFuture<>();
        zk.exists("/", false, (rc, path, ctx, stat) -> done.complete(rc), null);
        assertEquals(KeeperException.Code.OK.intValue(), done.get(WAIT_SECONDS, TimeUnit.SECONDS));
    }

    static void awaitTrue(String what, BooleanSupplier condition) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
        while (!condition.getAsBoolean()) {
            if (System.nanoTime() > deadline) {
                fail("timed out waiting for " + what);
            }
            Thread.sleep(50);
        }
    }

    /** Sends a four-letter word and returns the whole answer (the server closes the connection after it). */
    static String fourLetterWord(ZkTarget target, String word) throws IOException {
        try (Socket socket = new Socket(target.host(), target.port())) {
            socket.setSoTimeout((int) TimeUnit.SECONDS.toMillis(WAIT_SECONDS));
            OutputStream out = socket.getOutputStream();
            out.write(word.getBytes(StandardCharsets.US_ASCII));
            out.flush();
            InputStream in = socket.getInputStream();
            ByteArrayOutputStream answer = new ByteArrayOutputStream();
            in.transferTo(answer);
            return answer.toString(StandardCharsets.UTF_8);
        }
    }

    /** A watcher that queues every event so a test can assert the exact sequence. */
    static final class EventRecorder implements Watcher {
        private final BlockingQueue<WatchedEvent> events = new LinkedBlockingQueue<>();
        private final BlockingQueue<KeeperState> states = new LinkedBlockingQueue<>();

        @Override
        public void process(WatchedEvent event) {
            if (event.getType() == EventType.None) {
                states.add(event.getState());
            } else {
                events.add(event);
            }
        }

        WatchedEvent next() throws InterruptedException {
            WatchedEvent event = events.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            if (event == null) {
                fail("no watch event arrived within " + WAIT_SECONDS + " s");
            }
            return event;
        }

        void expect(EventType type, String path) throws InterruptedException {
            WatchedEvent event = next();
            assertEquals(type, event.getType(), () -> "event " + event);
            assertEquals(path, event.getPath(), () -> "event " + event);
            assertEquals(KeeperState.SyncConnected, event.getState(), () -> "event " + event);
        }

        /** Asserts that nothing more was delivered, after a {@link #barrier} on the client that owns this watcher. */
        void expectNoMore(ZooKeeper owner) throws Exception {
            barrier(owner);
            assertNull(events.poll(), "unexpected extra watch event");
        }

        void awaitState(KeeperState wanted) throws InterruptedException {
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(WAIT_SECONDS);
            while (true) {
                KeeperState state = states.poll(Math.max(1, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
                if (state == null) {
                    fail("session did not reach " + wanted + " within " + WAIT_SECONDS + " s");
                }
                if (state == wanted) {
                    return;
                }
            }
        }

        /** Waits for a state change, returning it: lets a test assert that the next state is not a given one. */
        KeeperState nextState() throws InterruptedException {
            KeeperState state = states.poll(WAIT_SECONDS, TimeUnit.SECONDS);
            assertTrue(state != null, "no session state change within " + WAIT_SECONDS + " s");
            return state;
        }
    }

    /** A latch that reports a clear failure instead of a bare false. */
    static void await(CountDownLatch latch, String what) throws InterruptedException {
        assertTrue(latch.await(WAIT_SECONDS, TimeUnit.SECONDS), "timed out waiting for " + what);
    }
}
