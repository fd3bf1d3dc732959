package io.tandem.server.kafka.replica;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;

/**
 * {@code replica.selector.class} (KIP-392): which replica a consumer should read a partition from, asked by the
 * partition's leader for each consumer Fetch v11+ (it carries the consumer's {@code client.rack}). Only Kafka's own
 * two selectors, by their class names: a broker names no plug-in of its own, and any other class is refused at
 * start-up ({@code BrokerConfigPolicy}). Without the key no selector runs and the leader never names another replica.
 *
 * <p>The candidates are what Kafka's ReplicaManager.findPreferredReadReplica offers its selector: the leader itself,
 * and each follower in the ISR that holds the consumer's fetch offset (log start <= offset <= log end), each with its
 * endpoint on the consumer's listener (a replica without one is never named). The leader is never sent as the
 * preferred read replica: choosing it means "no preference".
 */
public enum ReadReplicaSelector {
    /** org.apache.kafka.common.replica.LeaderSelector: always the leader. */
    LEADER("org.apache.kafka.common.replica.LeaderSelector"),
    /**
     * org.apache.kafka.common.replica.RackAwareReplicaSelector: with a client rack, the leader if it is in that rack,
     * else the most caught-up replica of that rack; the leader when the client has no rack or no replica shares it.
     */
    RACK_AWARE("org.apache.kafka.common.replica.RackAwareReplicaSelector");

    /** No replica to name: the leader serves the fetch (FetchResponse's INVALID_PREFERRED_REPLICA_ID). */
    public static final int NONE = -1;

    private final String className;

    ReadReplicaSelector(String className) {
        this.className = className;
    }

    public String className() {
        return className;
    }

    /** The selector named by {@code replica.selector.class}, null for none (unset or empty); else refused. */
    public static ReadReplicaSelector forClassName(String name) {
        if (name == null || name.isBlank()) return null;
        for (ReadReplicaSelector s : values()) {
            if (s.className.equals(name.trim())) return s;
        }
        throw new IllegalArgumentException("replica selector " + name.trim() + " is not implemented (only "
                + LEADER.className + " and " + RACK_AWARE.className + ")");
    }

    /**
     * A replica as the selector sees it (Kafka's ReplicaView): its broker, the rack of its endpoint on the client's
     * listener (null: none), how far its log goes and how long ago it was last caught up with the leader.
     */
    public record Candidate(int brokerId, String rack, long logEndOffset, long timeSinceLastCaughtUpMs) {
    }

    /**
     * Kafka's ReplicaView.comparator: the longer log wins, then the more recently caught up, then the higher broker id,
     * so a tie is settled the same way every time.
     */
    private static final Comparator<Candidate> MOST_CAUGHT_UP = Comparator.comparingLong(Candidate::logEndOffset)
            .thenComparing(Comparator.comparingLong(Candidate::timeSinceLastCaughtUpMs).reversed())
            .thenComparingInt(Candidate::brokerId);

    /** The broker the client should read from, or {@link #NONE} when it is the leader. */
    public int select(String clientRack, Candidate leader, List<Candidate> followers) {
        if (this == LEADER || clientRack == null || clientRack.isEmpty()) return NONE;
        if (clientRack.equals(leader.rack())) return NONE;
        Candidate best = null;
        for (Candidate c : followers) {
            if (!clientRack.equals(c.rack())) continue;
            if (best == null || MOST_CAUGHT_UP.compare(c, best) > 0) best = c;
        }
        return best == null ? NONE : best.brokerId();
    }

    /**
     * The preferred read replica of a partition led here for a consumer that fetches from {@code fetchOffset}, as
     * Kafka's findPreferredReadReplica: ISR followers holding that offset, with an endpoint on the consumer's
     * listener ({@code racks}: the live brokers with one, mapped to their rack, null for none), are the candidates
     * beside the leader.
     */
    public int preferredReadReplica(int leaderId, long leaderLogEndOffset, List<Integer> isr,
                                    List<IsrTracker.FollowerState> followers, Map<Integer, String> racks,
                                    String clientRack, long fetchOffset, long nowMs) {
        List<Candidate> candidates = new ArrayList<>();
        for (IsrTracker.FollowerState f : followers) {
            if (!isr.contains(f.brokerId()) || f.logEndOffset() < fetchOffset || f.logStartOffset() > fetchOffset) {
                continue;
            }
            // A replica without an endpoint on the client's listener is Kafka's Node.noNode(): never chosen.
            if (!racks.containsKey(f.brokerId())) continue;
            candidates.add(new Candidate(f.brokerId(), racks.get(f.brokerId()), f.logEndOffset(),
                    nowMs - f.lastCaughtUpMs()));
        }
        Candidate leader = new Candidate(leaderId, racks.get(leaderId), leaderLogEndOffset, 0);
        return select(clientRack, leader, candidates);
    }
}
