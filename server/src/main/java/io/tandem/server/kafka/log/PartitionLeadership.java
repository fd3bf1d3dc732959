package io.tandem.server.kafka.log;

import io.tandem.server.kafka.replica.IsrTracker;
import io.tandem.storage.log.Log;

import java.io.IOException;
import java.util.List;

/**
 * The replication role of one partition replica, apart from its records: who leads at which leader epoch, the
 * assigned replicas, and, while this broker leads, its followers' progress ({@link IsrTracker}) and the high watermark
 * that progress allows. {@link Partition} changes it under its own lock (one writer at a time); the fields are
 * volatile so that fetches and Metadata read them without that lock.
 */
final class PartitionLeadership {
    private final int localBrokerId;
    private final Log log;
    private volatile int leaderEpoch;
    private volatile int leaderId = Partition.NO_LEADER;
    private volatile List<Integer> replicas = List.of();
    /** Non-null while this broker leads the partition. */
    private volatile IsrTracker isrTracker;
    private volatile long leaderEpochStartOffset;

    PartitionLeadership(int localBrokerId, Log log) {
        this.localBrokerId = localBrokerId;
        this.log = log;
        this.leaderEpoch = Math.max(log.leaderEpochs().latestEpoch(), 0);
    }

    /**
     * This broker leads at {@code epoch}: a new epoch starts at the log end offset with the followers' progress
     * unknown (so the high watermark waits for them); the same epoch again only commits the ISR it names.
     * {@code flush}: whether the leader-epoch checkpoint is fsynced now or by the caller later.
     */
    void takeLead(int epoch, List<Integer> isr, int zkVersion, List<Integer> replicas, long nowMs, boolean flush)
            throws IOException {
        boolean newEpoch = epoch != leaderEpoch || leaderId != localBrokerId;
        this.replicas = List.copyOf(replicas);
        this.leaderEpoch = epoch;
        this.leaderId = localBrokerId;
        if (flush) {
            log.assignLeaderEpoch(epoch);
        } else {
            log.recordLeaderEpoch(epoch);
        }
        if (newEpoch || isrTracker == null) {
            leaderEpochStartOffset = log.logEndOffset();
            isrTracker = new IsrTracker(localBrokerId, replicas, isr, zkVersion, nowMs);
        } else {
            isrTracker.committed(isr, zkVersion);
        }
        maybeIncrementHighWatermark();
    }

    void follow(int leader, int epoch, List<Integer> replicas) {
        this.replicas = List.copyOf(replicas);
        this.leaderEpoch = epoch;
        this.leaderId = leader;
        this.isrTracker = null;
    }

    /** Back to a replica no controller has spoken to (its topic id changed: the records were another topic's). */
    void forget() {
        leaderEpoch = 0;
        leaderId = Partition.NO_LEADER;
        isrTracker = null;
        replicas = List.of();
        leaderEpochStartOffset = 0;
    }

    /** The follower bookkeeping while this broker leads, else null (appends are refused then). */
    IsrTracker leadingTracker() {
        IsrTracker tracker = isrTracker;
        return tracker == null || leaderId != localBrokerId ? null : tracker;
    }

    boolean isLeader() {
        return leaderId == localBrokerId && isrTracker != null;
    }

    int leaderId() {
        return leaderId;
    }

    int leaderEpoch() {
        return leaderEpoch;
    }

    List<Integer> replicas() {
        return replicas;
    }

    IsrTracker isrTracker() {
        return isrTracker;
    }

    long leaderEpochStartOffset() {
        return leaderEpochStartOffset;
    }

    List<Integer> inSyncReplicas() {
        IsrTracker tracker = isrTracker;
        return tracker == null ? List.of() : tracker.isr();
    }

    /** Leader only: the high watermark to what the maximal ISR allows, never back; whether it moved. */
    boolean maybeIncrementHighWatermark() {
        IsrTracker tracker = isrTracker;
        if (tracker == null) return false;
        long before = log.highWatermark();
        long candidate = tracker.highWatermark(log.logEndOffset());
        if (candidate <= before) return false;
        log.updateHighWatermark(candidate);
        return true;
    }

    /** Leader only: a follower fetched from {@code fetchOffset}; whether the high watermark moved. */
    boolean recordFollowerFetch(int replica, long fetchOffset, long followerLogStartOffset, long nowMs) {
        IsrTracker tracker = isrTracker;
        if (tracker == null || !tracker.onFetch(replica, fetchOffset, followerLogStartOffset, log.logEndOffset(),
                nowMs)) {
            return false;
        }
        return maybeIncrementHighWatermark();
    }

    /** Follower only: the leader's high watermark, capped by what this replica holds. */
    void followerHighWatermark(long leaderHighWatermark) {
        log.updateHighWatermark(Math.min(leaderHighWatermark, log.logEndOffset()));
    }
}
