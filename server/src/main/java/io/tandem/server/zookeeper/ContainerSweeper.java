package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.DeleteRequest;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Apache's ContainerManager: every {@code znode.container.checkIntervalMs} it deletes empty containers that once had
 * a child (and never-used ones after {@code znode.container.maxNeverUsedIntervalMs}, when set) and childless TTL nodes
 * unmodified for longer than their TTL, as internal deleteContainer requests on the commit thread.
 */
final class ContainerSweeper {
    private final ZkServerConfig config;
    private final DataTree tree;
    private CommitClock clock = CommitClock.SYSTEM;
    private long nextCheckNanos;

    ContainerSweeper(ZkServerConfig config, DataTree tree) {
        this.config = config;
        this.tree = tree;
        this.nextCheckNanos = clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.containerCheckIntervalMs());
    }

    /**
     * Sweeps on {@code clock} (the simulator's virtual one) from now on: when a sweep runs and what it finds expired
     * must follow the seed, not the real time a run happens to take, or a seed does not replay.
     */
    void useClock(CommitClock clock) {
        this.clock = clock;
        this.nextCheckNanos = clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.containerCheckIntervalMs());
    }

    void addDeletions(List<Request> batch) {
        long now = clock.nanoTime();
        if (now - nextCheckNanos < 0) {
            return;
        }
        nextCheckNanos = now + TimeUnit.MILLISECONDS.toNanos(config.containerCheckIntervalMs());
        // The same clock as the txn times that set the nodes' mtime (CommitClock.currentTimeMillis).
        long wallNow = clock.currentTimeMillis();
        // Sorted: the deletions are proposed in this order, and it must not depend on hashing.
        Set<String> candidates = new TreeSet<>();
        for (String path : tree.containers()) {
            DataNode node = tree.getNode(path);
            if (node != null && node.childCount() == 0) {
                if (node.cversion() > 0) {
                    candidates.add(path);
                } else if (config.containerMaxNeverUsedMs() != 0
                        && wallNow - node.mtime > config.containerMaxNeverUsedMs()) {
                    candidates.add(path);
                }
            }
        }
        for (String path : tree.ttls()) {
            DataNode node = tree.getNode(path);
            if (node != null && node.childCount() == 0) {
                long ttl = EphemeralOwner.ttlMsOf(node.ephemeralOwner());
                if (ttl != 0 && wallNow - node.mtime > ttl) {
                    candidates.add(path);
                }
            }
        }
        for (String path : candidates) {
            batch.add(new Request(null, 0, 0, OpCode.DELETE_CONTAINER, new DeleteRequest(path, -1)));
        }
    }
}
