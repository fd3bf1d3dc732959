package io.tandem.server.zookeeper;

import java.io.IOException;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.zookeeper.WatchedEvent;
import org.apache.zookeeper.Watcher;
import org.apache.zookeeper.ZooKeeper;

/** Connects the official ZooKeeper client and collects watch events for assertions. */
final class ZkTestSupport {
    /** Records every event delivered to a watcher, in order. */
    static final class Events implements Watcher {
        final BlockingQueue<WatchedEvent> queue = new LinkedBlockingQueue<>();

        @Override
        public void process(WatchedEvent event) {
            queue.add(event);
        }

        WatchedEvent next() throws InterruptedException {
            WatchedEvent event = queue.poll(10, TimeUnit.SECONDS);
            if (event == null) {
                throw new AssertionError("no watch event within 10 s");
            }
            return event;
        }

        /** Next event that is not a connection-state change. */
        WatchedEvent nextNodeEvent() throws InterruptedException {
            while (true) {
                WatchedEvent event = next();
                if (event.getType() != Event.EventType.None) {
                    return event;
                }
            }
        }

        WatchedEvent poll(long millis) throws InterruptedException {
            return queue.poll(millis, TimeUnit.MILLISECONDS);
        }
    }

    static ZooKeeper connect(String connect) throws IOException, InterruptedException {
        return connect(connect, 30_000, null);
    }

    static ZooKeeper connect(String connect, int timeoutMs, Watcher extra) throws IOException, InterruptedException {
        CountDownLatch connected = new CountDownLatch(1);
        ZooKeeper zk = new ZooKeeper(connect, timeoutMs, event -> {
            if (event.getState() == Watcher.Event.KeeperState.SyncConnected) {
                connected.countDown();
            }
            if (extra != null) {
                extra.process(event);
            }
        });
        if (!connected.await(15, TimeUnit.SECONDS)) {
            zk.close();
            throw new AssertionError("ZooKeeper client did not connect to " + connect);
        }
        return zk;
    }

    private ZkTestSupport() {
    }
}
