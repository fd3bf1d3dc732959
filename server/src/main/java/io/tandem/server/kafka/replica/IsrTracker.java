package io.tandem.server.kafka.replica;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.IntPredicate;

/**
 * What the leader of one partition knows about its followers, and the rules Kafka's leader applies to it:
 * <ul>
 *   <li>a follower is caught up when it fetches from at least the leader's log end offset as of now, or as of its
 *       previous fetch (then it was caught up at that earlier time);</li>
 *   <li>the high watermark is the smallest log end offset over the maximal ISR (the committed ISR plus members of a
 *       change in flight), so a record counts as committed only when every replica that may become leader has it;</li>
 *   <li>a follower joins the ISR once its log end offset reaches the high watermark and the start of the leader's
 *       epoch; an ISR member leaves it only when it is out of sync as Kafka 3.9's ReplicaState.isCaughtUp judges:
 *       its log end offset differs from the leader's and it was last caught up more than
 *       {@code replica.lag.time.max.ms} ago. A follower holding the whole log of an idle partition stays in however
 *       long its next fetch takes (parked at the leader for replica.fetch.wait.max.ms, or cut off): it lacks nothing
 *       a leader could lose.</li>
 * </ul>
 * ISR changes are proposed one at a time (AlterPartition) and take effect only when the controller commits them.
 */
public final class IsrTracker {
    /** A follower's log end offset before its first fetch under this leader: unknown, so it holds the HW back. */
    public static final long UNKNOWN_OFFSET = -1;

    private static final class Follower {
        long logEndOffset = UNKNOWN_OFFSET;
        /** The log start offset its last fetch named (Fetch v5+), unknown before. */
        long logStartOffset = UNKNOWN_OFFSET;
        long lastCaughtUpMs;
        long leaderEndOffsetAtLastFetch = UNKNOWN_OFFSET;
        long lastFetchMs;
    }

    private final int self;
    private final Map<Integer, Follower> followers = new HashMap<>();
    private List<Integer> isr;
    private List<Integer> proposed;
    private int zkVersion;

    public IsrTracker(int self, List<Integer> replicas, List<Integer> isr, int zkVersion, long nowMs) {
        this.self = self;
        this.isr = List.copyOf(isr);
        this.zkVersion = zkVersion;
        for (int replica : replicas) {
            if (replica == self) continue;
            Follower f = new Follower();
            // Kafka gives every ISR member a full lag window under a new leader before it may be dropped.
            f.lastCaughtUpMs = isr.contains(replica) ? nowMs : 0;
            followers.put(replica, f);
        }
    }

    /** A fetch from follower {@code replica} at {@code fetchOffset}; false when it is not a replica of the partition. */
    public synchronized boolean onFetch(int replica, long fetchOffset, long leaderEndOffset, long nowMs) {
        return onFetch(replica, fetchOffset, UNKNOWN_OFFSET, leaderEndOffset, nowMs);
    }

    /** The same, with the log start offset the follower's fetch named ({@link #UNKNOWN_OFFSET} if none). */
    public synchronized boolean onFetch(int replica, long fetchOffset, long logStartOffset, long leaderEndOffset,
                                        long nowMs) {
        Follower f = followers.get(replica);
        if (f == null) return false;
        f.logStartOffset = logStartOffset;
        if (fetchOffset >= leaderEndOffset) {
            f.lastCaughtUpMs = nowMs;
        } else if (fetchOffset >= f.leaderEndOffsetAtLastFetch && f.leaderEndOffsetAtLastFetch != UNKNOWN_OFFSET) {
            f.lastCaughtUpMs = Math.max(f.lastCaughtUpMs, f.lastFetchMs);
        }
        f.logEndOffset = fetchOffset;
        f.leaderEndOffsetAtLastFetch = leaderEndOffset;
        f.lastFetchMs = nowMs;
        return true;
    }

    /** What the leader knows of one follower: what a replica selector weighs (Kafka's Replica.stateSnapshot). */
    public record FollowerState(int brokerId, long logEndOffset, long logStartOffset, long lastCaughtUpMs) {
    }

    /** Every follower's state as of its last fetch. */
    public synchronized List<FollowerState> followerStates() {
        List<FollowerState> states = new ArrayList<>(followers.size());
        followers.forEach((id, f) -> states.add(new FollowerState(id, f.logEndOffset, f.logStartOffset,
                f.lastCaughtUpMs)));
        return states;
    }

    /** The high watermark the maximal ISR allows, given the leader's own log end offset. */
    public synchronized long highWatermark(long leaderEndOffset) {
        long hw = leaderEndOffset;
        for (int replica : maximalIsr()) {
            if (replica == self) continue;
            Follower f = followers.get(replica);
            hw = Math.min(hw, f == null ? UNKNOWN_OFFSET : f.logEndOffset);
        }
        return hw;
    }

    private Set<Integer> maximalIsr() {
        Set<Integer> maximal = new LinkedHashSet<>(isr);
        if (proposed != null) maximal.addAll(proposed);
        return maximal;
    }

    /** The committed ISR: what acks=all and min.insync.replicas are judged against. */
    public synchronized List<Integer> isr() {
        return isr;
    }

    public synchronized int zkVersion() {
        return zkVersion;
    }

    /**
     * The ISR this leader, whose log ends at {@code leaderEndOffset}, should ask for now (followers caught up to join,
     * laggards to leave), or null when it is right as it is or a change is already in flight. The returned change is
     * then in flight. As Kafka's Partition.maybeShrinkIsr and maybeExpandIsr, which propose apart: laggards leave in a
     * change that adds nobody, and only when none lags do caught-up followers join, and only those {@code eligible} says may
     * (Kafka's isReplicaIsrEligible: in ZooKeeper mode a broker its metadata lists as alive). Proposed together, a
     * change that also named a follower the controller refuses (a broker that has just stopped, INELIGIBLE_REPLICA)
     * was refused whole, again at every check, and the laggard never left: acks=all produces waited on it for good.
     */
    public synchronized List<Integer> proposeChange(long leaderEndOffset, long highWatermark, long epochStartOffset,
                                                   long nowMs, long lagMs, IntPredicate eligible) {
        if (proposed != null) return null;
        List<Integer> next = new ArrayList<>();
        for (int replica : isr) {
            Follower f = followers.get(replica);
            if (replica != self && f != null && !caughtUp(f, leaderEndOffset, nowMs, lagMs)) continue;
            next.add(replica);
        }
        if (next.size() == isr.size()) {
            for (Map.Entry<Integer, Follower> e : followers.entrySet()) {
                if (isr.contains(e.getKey()) || !eligible.test(e.getKey())) continue;
                long leo = e.getValue().logEndOffset;
                if (leo != UNKNOWN_OFFSET && leo >= highWatermark && leo >= epochStartOffset) next.add(e.getKey());
            }
            if (next.size() == isr.size()) return null;
        }
        next.sort(null);
        proposed = List.copyOf(next);
        return proposed;
    }

    /**
     * Kafka 3.9's ReplicaState.isCaughtUp, which Partition.getOutOfSyncReplicas negates: at the leader's log end
     * offset, or caught up within the lag. Judging by the time alone dropped the follower of an idle partition whose
     * fetch the leader held longer than the lag, though it had every record (issue 9).
     */
    private static boolean caughtUp(Follower f, long leaderEndOffset, long nowMs, long lagMs) {
        return f.logEndOffset == leaderEndOffset || nowMs - f.lastCaughtUpMs <= lagMs;
    }

    /** The controller committed an ISR (ours or its own) at {@code zkVersion}. */
    public synchronized void committed(List<Integer> newIsr, int newZkVersion) {
        isr = List.copyOf(newIsr);
        zkVersion = newZkVersion;
        proposed = null;
    }

    /** The proposal was refused or lost: the next check proposes again from the committed ISR. */
    public synchronized void proposalFailed() {
        proposed = null;
    }
}
