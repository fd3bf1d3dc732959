package io.tandem.server.zookeeper;

import io.tandem.zk.wire.EphemeralOwner;
import io.tandem.zk.wire.OpCode;
import io.tandem.zk.wire.proto.DeleteRequest;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * Apache's ContainerManager: every {@code znode.container.checkIntervalMs} it finds empty containers that once had a
 * child (and never-used ones after {@code znode.container.maxNeverUsedIntervalMs}, when set) and childless TTL nodes
 * unmodified for longer than their TTL, and deletes them as internal deleteContainer requests on the commit thread,
 * one every {@code 60000 / znode.container.maxPerMinute} ms, so that a sweep finding many does not herd the ensemble
 * with deletions (and their watch events) at once.
 *
 * <p>As in Apache, the candidates are those found when the sweep starts; each one's deletion is decided when its
 * turn comes (one that got a child meanwhile fails with NotEmpty, as there), and the next sweep starts only when the
 * interval has passed and the previous sweep's candidates are all sent. The queue holds at most the tree's containers
 * and TTL nodes, which the tree itself bounds.
 */
final class ContainerSweeper {
    private final ZkServerConfig config;
    private final DataTree tree;
    /** Nanoseconds between two deletions of one sweep (Apache's getMinIntervalMs: a minute / maxPerMinute). */
    private final long deletionIntervalNanos;
    private CommitClock clock = CommitClock.SYSTEM;
    private long nextCheckNanos;
    /** The current sweep's candidates not deleted yet, in the order they are deleted. */
    private final Deque<String> candidates = new ArrayDeque<>();
    /** When the next of {@link #candidates} may go out. */
    private long nextDeletionNanos;

    ContainerSweeper(ZkServerConfig config, DataTree tree) {
        this.config = config;
        this.tree = tree;
        this.deletionIntervalNanos = TimeUnit.MILLISECONDS.toNanos(TimeUnit.MINUTES.toMillis(1)
                / config.containerMaxPerMinute());
        this.nextCheckNanos = clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.containerCheckIntervalMs());
    }

    /**
     * Sweeps on {@code clock} (the simulator's virtual one) from now on: when a sweep runs and what it finds expired
     * must follow the seed, not the real time a run happens to take, or a seed does not replay.
     */
    void useClock(CommitClock clock) {
        this.clock = clock;
        this.nextCheckNanos = clock.nanoTime() + TimeUnit.MILLISECONDS.toNanos(config.containerCheckIntervalMs());
        this.candidates.clear();
    }

    /**
     * Milliseconds until the next paced deletion is due (0 when it is), or {@code Long.MAX_VALUE} when no sweep is in
     * progress: the commit thread waits for work no longer than this, so the pace holds on an idle server too.
     */
    long msUntilNextDeletion() {
        if (candidates.isEmpty()) {
            return Long.MAX_VALUE;
        }
        return Math.max(0, TimeUnit.NANOSECONDS.toMillis(nextDeletionNanos - clock.nanoTime()));
    }

    /** This member no longer decides deletions (not leading): the rest of its sweep is dropped. */
    void abandonSweep() {
        candidates.clear();
    }

    void addDeletions(List<Request> batch) {
        long now = clock.nanoTime();
        if (candidates.isEmpty() && now - nextCheckNanos >= 0) {
            nextCheckNanos = now + TimeUnit.MILLISECONDS.toNanos(config.containerCheckIntervalMs());
            findCandidates();
            nextDeletionNanos = now;
        }
        if (now - nextDeletionNanos > deletionIntervalNanos) {
            // The commit thread was busy past a whole interval: go on at the pace from now rather than in a burst.
            nextDeletionNanos = now;
        }
        while (!candidates.isEmpty() && now - nextDeletionNanos >= 0) {
            batch.add(new Request(null, 0, 0, OpCode.DELETE_CONTAINER, new DeleteRequest(candidates.poll(), -1)));
            nextDeletionNanos += deletionIntervalNanos;
        }
    }

    private void findCandidates() {
        // The same clock as the txn times that set the nodes' mtime (CommitClock.currentTimeMillis).
        long wallNow = clock.currentTimeMillis();
        // Sorted: the deletions are proposed in this order, and it must not depend on hashing.
        Set<String> found = new TreeSet<>();
        for (String path : tree.containers()) {
            DataNode node = tree.getNode(path);
            if (node != null && node.childCount() == 0) {
                if (node.cversion() > 0) {
                    found.add(path);
                } else if (config.containerMaxNeverUsedMs() != 0
                        && wallNow - node.mtime > config.containerMaxNeverUsedMs()) {
                    found.add(path);
                }
            }
        }
        for (String path : tree.ttls()) {
            DataNode node = tree.getNode(path);
            if (node != null && node.childCount() == 0) {
                long ttl = EphemeralOwner.ttlMsOf(node.ephemeralOwner());
                if (ttl != 0 && wallNow - node.mtime > ttl) {
                    found.add(path);
                }
            }
        }
        candidates.addAll(found);
    }
}
