package io.tandem.server.kafka.replica;

import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.LeaderEpochCache;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * The leader's rules for a fetch and for an acks=all produce, apart from the request handlers that carry them:
 * the leader-epoch fence, the divergence check that makes a follower truncate (KIP-320/KIP-595), the offset range,
 * and when a produce waiting for the ISR is decided and with what outcome. FetchHandler and ProduceHandler use them
 * on the wire; the replication simulation uses the same rules over its simulated network.
 */
public final class LeaderFetch {
    private LeaderFetch() {
    }

    /** Fetch v9+: a fetcher at another leader epoch is fenced (older) or ahead of what this broker knows (newer). */
    public static short epochError(Partition partition, int currentLeaderEpoch) {
        if (currentLeaderEpoch < 0 || currentLeaderEpoch == partition.leaderEpoch()) return NONE;
        return currentLeaderEpoch < partition.leaderEpoch() ? FENCED_LEADER_EPOCH : UNKNOWN_LEADER_EPOCH;
    }

    /**
     * Whether a fetch parked on this leader can still be served from it, as Kafka's DelayedFetch.tryComplete asks
     * (Partition.fetchOffsetSnapshot with fetchOnlyFromLeader): the fetcher's epoch first ({@link #epochError};
     * {@code currentLeaderEpoch} -1 below Fetch v9), then the leadership, NOT_LEADER_OR_FOLLOWER once a LeaderAndIsr
     * made this broker a follower. Anything but NONE completes the fetch at once with that error, so a consumer's
     * long poll does not sit out its max.wait on a broker that no longer leads.
     */
    public static short servingError(Partition partition, int currentLeaderEpoch) {
        return servingError(partition, currentLeaderEpoch, true);
    }

    /**
     * Kafka's Partition.localLogWithEpochOrThrow: the fetcher's epoch first, then, when {@code requireLeader}, the
     * leadership. A consumer's Fetch v11+ (it carries client metadata, KIP-392) does not require the leader: a
     * follower serves it from its own log, up to its own high watermark (FetchParams.fetchOnlyLeader is true only for
     * replica fetches and for consumer fetches without client metadata).
     */
    public static short servingError(Partition partition, int currentLeaderEpoch, boolean requireLeader) {
        short epoch = epochError(partition, currentLeaderEpoch);
        if (epoch != NONE) return epoch;
        return !requireLeader || partition.isLeader() ? NONE : NOT_LEADER_OR_FOLLOWER;
    }

    /**
     * Partition.localLogWithEpochOrThrow for ListOffsets and OffsetForLeaderEpoch, whose requests mark "no epoch" with
     * -1 alone (ListOffsetsResponse.UNKNOWN_EPOCH, RecordBatch.NO_PARTITION_LEADER_EPOCH): any other epoch is
     * checked, so -2 is fenced where a Fetch (whose negative epochs all mean none) would not be.
     */
    public static short requestEpochError(Partition partition, int currentLeaderEpoch, boolean requireLeader) {
        if (currentLeaderEpoch != -1 && currentLeaderEpoch != partition.leaderEpoch()) {
            return currentLeaderEpoch < partition.leaderEpoch() ? FENCED_LEADER_EPOCH : UNKNOWN_LEADER_EPOCH;
        }
        return !requireLeader || partition.isLeader() ? NONE : NOT_LEADER_OR_FOLLOWER;
    }

    /**
     * Kafka's FetchParams.fetchOnlyLeader for a Fetch of {@code version} from {@code replicaId}: a follower's always
     * (a broker id), a consumer's below v11 (no client metadata); FetchRequest.isConsumer excludes the future local
     * replica (-3), which therefore reads from any replica.
     */
    public static boolean fetchOnlyLeader(short version, int replicaId) {
        boolean fromFollower = replicaId >= 0;
        boolean consumer = replicaId < 0 && replicaId != FUTURE_LOCAL_REPLICA_ID;
        return fromFollower || (consumer && version < CLIENT_METADATA_VERSION);
    }

    /** Fetch v11 added the client's rack (client metadata), with which a consumer may read from a follower. */
    public static final short CLIENT_METADATA_VERSION = 11;
    /** FetchRequest.FUTURE_LOCAL_REPLICA_ID: a broker's own replica moving between its log directories. */
    static final int FUTURE_LOCAL_REPLICA_ID = -3;

    /**
     * Kafka's Partition.readRecords for a Fetch v12+ carrying a last fetched epoch, a consumer's as well as a
     * follower's: OFFSET_OUT_OF_RANGE when this log cannot say where that epoch ends (an epoch above every one known
     * here, or none known: LeaderEpochFileCache.endOffsetFor answers undefined), or when the fetch offset is below the
     * log start, whatever the divergence; else NONE, and {@link #divergence} tells whether the fetcher diverged.
     */
    public static short lastFetchedEpochError(Partition partition, long fetchOffset, int lastFetchedEpoch) {
        if (lastFetchedEpoch < 0) return NONE;
        long[] end = partition.log().leaderEpochs().endOffsetFor(lastFetchedEpoch, partition.logEndOffset());
        if (end[0] == LeaderEpochCache.UNDEFINED_EPOCH || end[1] == LeaderEpochCache.UNDEFINED_EPOCH_OFFSET) {
            return OFFSET_OUT_OF_RANGE;
        }
        return fetchOffset < partition.logStartOffset() ? OFFSET_OUT_OF_RANGE : NONE;
    }

    /**
     * Whether a fetch parked with {@code lastFetchedEpoch} must be answered now for its epoch, as Kafka's
     * DelayedFetch.tryComplete case H: this log can no longer say where that epoch ends, or it diverges from the
     * fetcher's (a truncation here while the fetch waited: the fetcher must learn it to truncate or reset).
     */
    public static boolean divergedWhileParked(Partition partition, long fetchOffset, int lastFetchedEpoch) {
        if (lastFetchedEpoch < 0) return false;
        long[] end = partition.log().leaderEpochs().endOffsetFor(lastFetchedEpoch, partition.logEndOffset());
        return end[0] == LeaderEpochCache.UNDEFINED_EPOCH || end[1] == LeaderEpochCache.UNDEFINED_EPOCH_OFFSET
                || end[0] < lastFetchedEpoch || end[1] < fetchOffset;
    }

    /**
     * Fetch v12+ with a last fetched epoch (a follower's, or a consumer's: Kafka checks every fetcher's): {epoch, end
     * offset} where the fetcher's log stops agreeing with this one (its last fetched epoch is unknown here or ends
     * before its fetch offset), or null when it agrees. Ask {@link #lastFetchedEpochError} first, as Kafka does.
     */
    public static long[] divergence(Partition partition, long fetchOffset, int lastFetchedEpoch) {
        if (lastFetchedEpoch < 0) return null;
        // LeaderEpochCache.endOffsetFor answers an epoch older than every epoch this leader knows (it never had those
        // records: elected from the ISR before it fetched the uncommitted ones) with where its first epoch starts,
        // under the follower's epoch, so the follower truncates there (replication simulation seeds 150 and 262: told
        // the epoch was undefined, it kept its extra records and never caught up nor rejoined the ISR).
        long[] end = partition.log().leaderEpochs().endOffsetFor(lastFetchedEpoch, partition.logEndOffset());
        return end[0] < lastFetchedEpoch || end[1] < fetchOffset ? end : null;
    }

    /** What a fetch of one partition is answered before anything is read: an error, a divergence, or neither. */
    public record ReadCheck(short error, long[] diverging) {
    }

    /**
     * Kafka's Partition.readRecords checks, in its order, for a fetch this replica serves ({@link #servingError} said
     * NONE): with a last fetched epoch (Fetch v12+; -1 otherwise), {@link #lastFetchedEpochError} and then
     * {@link #divergence}; without a divergence, the offset range. FetchHandler answers every fetch with it, and the
     * replication simulation its simulated leaders' replica fetches.
     */
    public static ReadCheck readCheck(Partition partition, long fetchOffset, int lastFetchedEpoch) {
        short error = lastFetchedEpochError(partition, fetchOffset, lastFetchedEpoch);
        if (error != NONE) return new ReadCheck(error, null);
        long[] diverging = divergence(partition, fetchOffset, lastFetchedEpoch);
        if (diverging != null) return new ReadCheck(NONE, diverging);
        return new ReadCheck(offsetError(partition, fetchOffset), null);
    }

    /** OFFSET_OUT_OF_RANGE outside [log start, log end], else NONE. */
    public static short offsetError(Partition partition, long fetchOffset) {
        return fetchOffset < partition.logStartOffset() || fetchOffset > partition.logEndOffset()
                ? OFFSET_OUT_OF_RANGE : NONE;
    }

    /** Whether an acks=all append that needs the high watermark at {@code requiredOffset} can be answered now. */
    public static boolean produceDecided(Partition partition, long requiredOffset) {
        return !partition.isLeader() || partition.highWatermark() >= requiredOffset;
    }

    /**
     * Kafka's outcome of an acks=all append: NONE when committed with the ISR at least {@code minInsyncReplicas},
     * NOT_LEADER_OR_FOLLOWER when the leadership moved, REQUEST_TIMED_OUT when not committed yet (at the timeout),
     * NOT_ENOUGH_REPLICAS_AFTER_APPEND when committed by an ISR that shrank below the minimum meanwhile.
     */
    public static short produceOutcome(Partition partition, long requiredOffset, int minInsyncReplicas) {
        if (!partition.isLeader()) return NOT_LEADER_OR_FOLLOWER;
        if (partition.highWatermark() < requiredOffset) return REQUEST_TIMED_OUT;
        if (partition.inSyncReplicas().size() < minInsyncReplicas) return NOT_ENOUGH_REPLICAS_AFTER_APPEND;
        return NONE;
    }
}
