package io.tandem.server.zab.apache;

import io.tandem.server.zab.apache.LearnerWire.QuorumPacket;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.BiConsumer;

/**
 * The learners of one {@link ApacheLeader} leadership and what each kind is sent, as Apache's Leader keeps its
 * learners, forwardingFollowers and observingLearners: every connection; the followers synced (or syncing), which get
 * each PROPOSAL and its COMMIT (COMMITANDACTIVATE for a reconfig) and whose ACKs count; and the observers, which get
 * no proposal and learn each commit whole in one INFORM (INFORMANDACTIVATE for a reconfig: the designated leader, then
 * the transaction), and never count towards a quorum. Every learner is pinged. Not thread-safe: the leader calls it
 * under its lock.
 */
final class LeaderLearners {
    /** Every connection, synced or not (Apache's learners). */
    private final List<ApacheLearnerHandler> connections = new ArrayList<>();
    /** Followers that receive proposals and commits, from their sync point on (Apache's forwardingFollowers). */
    private final Map<Long, ApacheLearnerHandler> followers = new HashMap<>();
    /** Observers that receive INFORMs, from their sync point on (Apache's observingLearners). */
    private final Map<Long, ApacheLearnerHandler> observers = new HashMap<>();

    int connectionCount() {
        return connections.size();
    }

    void connected(ApacheLearnerHandler handler) {
        connections.add(handler);
    }

    List<ApacheLearnerHandler> connections() {
        return new ArrayList<>(connections);
    }

    /**
     * The learner is synced up to its sync point: from now on it is sent what its kind is sent. A learner that
     * reconnected replaces its old connection, which is dead.
     */
    void startForwarding(ApacheLearnerHandler handler) {
        ApacheLearnerHandler previous = (handler.isObserver() ? observers : followers).put(handler.sid(), handler);
        if (previous != null && previous != handler) {
            previous.close();
        }
        // A server a reconfig turned from one kind to the other reconnects as the new kind.
        ApacheLearnerHandler other = (handler.isObserver() ? followers : observers).remove(handler.sid());
        if (other != null && other != handler) {
            other.close();
        }
    }

    void gone(ApacheLearnerHandler handler) {
        connections.remove(handler);
        followers.remove(handler.sid(), handler);
        observers.remove(handler.sid(), handler);
    }

    /** The forwarded-to learner {@code sid} (follower or observer), or null. */
    ApacheLearnerHandler get(long sid) {
        ApacheLearnerHandler handler = followers.get(sid);
        return handler != null ? handler : observers.get(sid);
    }

    /** A follower synced with the leader (Apache's isQuorumSynced counts forwarding followers only). */
    boolean isSyncedFollower(long sid) {
        ApacheLearnerHandler handler = followers.get(sid);
        return handler != null && handler.isSynced();
    }

    /** A new proposal: to the followers only (Apache's sendPacket). */
    void propose(QuorumPacket proposal) {
        for (ApacheLearnerHandler handler : followers.values()) {
            handler.queue(proposal);
        }
    }

    /**
     * A proposal committed: COMMIT to the followers and INFORM with the transaction to the observers (Apache's
     * commit and inform); for a reconfig ({@code designatedLeader} >= 0) COMMITANDACTIVATE and INFORMANDACTIVATE,
     * both naming the leader it designates.
     */
    void commit(long zxid, byte[] txn, long designatedLeader) {
        QuorumPacket toFollowers;
        QuorumPacket toObservers;
        if (designatedLeader < 0) {
            toFollowers = new QuorumPacket(LearnerWire.COMMIT, zxid, null);
            toObservers = observers.isEmpty() ? null : new QuorumPacket(LearnerWire.INFORM, zxid, txn);
        } else {
            toFollowers = new QuorumPacket(LearnerWire.COMMITANDACTIVATE, zxid,
                    ByteBuffer.allocate(8).putLong(designatedLeader).array());
            toObservers = observers.isEmpty() ? null : new QuorumPacket(LearnerWire.INFORMANDACTIVATE, zxid,
                    ByteBuffer.allocate(8 + txn.length).putLong(designatedLeader).put(txn).array());
        }
        for (ApacheLearnerHandler handler : followers.values()) {
            handler.queue(toFollowers);
        }
        if (toObservers != null) {
            for (ApacheLearnerHandler handler : observers.values()) {
                handler.queue(toObservers);
            }
        }
    }

    /**
     * PING to every synced learner heard from within {@code syncLimitNanos} (Apache pings followers and observers
     * alike); returns the followers among them, which the leader counts for its quorum.
     */
    Set<Long> pingSynced(long lastProposedZxid, long syncLimitNanos) {
        Set<Long> synced = new HashSet<>();
        long now = System.nanoTime();
        QuorumPacket ping = new QuorumPacket(LearnerWire.PING, lastProposedZxid, null);
        for (Map<Long, ApacheLearnerHandler> kind : List.of(followers, observers)) {
            for (ApacheLearnerHandler handler : kind.values()) {
                if (handler.isSynced() && now - handler.lastHeardNanos() < syncLimitNanos) {
                    handler.queue(ping);
                    if (kind == followers) synced.add(handler.sid());
                }
            }
        }
        return synced;
    }

    /**
     * Apache's Leader gauges of mntr about learners: every connection (getLearners), the followers forwarded to from
     * their sync point on (getForwardingFollowers, those still syncing included), those among them that
     * {@code voters} (the configuration in force, Apache's getQuorumVerifier) does not make voters
     * (getNonVotingFollowers: a joiner before the reconfig adding it, a member one removed), and the observers
     * forwarded to (getObservingLearners).
     */
    void reportStats(Set<Long> voters, BiConsumer<String, Object> line) {
        int nonVoting = 0;
        for (long sid : followers.keySet()) {
            if (!voters.contains(sid)) nonVoting++;
        }
        line.accept("zk_learners", connections.size());
        line.accept("zk_synced_followers", followers.size());
        line.accept("zk_synced_non_voting_followers", nonVoting);
        line.accept("zk_synced_observers", observers.size());
    }

    /** Apache's Leader.getObservingLearnersInfo: each forwarded-to observer's LearnerHandler figures. */
    List<Map<String, Object>> observersInfo() {
        List<Map<String, Object>> info = new ArrayList<>(observers.size());
        for (ApacheLearnerHandler handler : observers.values()) {
            info.add(handler.info());
        }
        return info;
    }

    /** Apache's Leader.resetObserverConnectionStats: each forwarded-to observer's counters start over. */
    void resetObserverStats() {
        for (ApacheLearnerHandler handler : observers.values()) {
            handler.resetStats();
        }
    }
}
