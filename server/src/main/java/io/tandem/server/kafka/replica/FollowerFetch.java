package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.record.CorruptRecordException;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.LeaderEpochCache;

import java.io.IOException;

import static io.tandem.server.kafka.ErrorCodes.*;

/**
 * A follower's side of a replica fetch, apart from how the fetch travels: the request it sends for the partitions it
 * follows on one leader, and what it does with the leader's answer for one partition (append, take the high
 * watermark, truncate on a diverging epoch, restart past a moved log start). {@link ReplicaFetcher} runs it on a
 * thread over a socket; the replication simulation runs the same code over its simulated network.
 */
public final class FollowerFetch {
    private static final System.Logger LOG = System.getLogger(FollowerFetch.class.getName());

    private FollowerFetch() {
    }

    /** What a follower's fetch says for {@code p}: from its log end, with the epochs the leader checks. */
    public static FetchSessionHandler.PartitionState state(Partition p, int partitionBytesMax) {
        return new FetchSessionHandler.PartitionState(p.logEndOffset(), p.logStartOffset(), partitionBytesMax,
                p.leaderEpoch(), p.log().leaderEpochs().latestEpoch());
    }

    /** A replica Fetch (v12 fields) from {@code localBrokerId} carrying one fetch of its session with the leader. */
    public static FetchRequest request(int localBrokerId, FetchSessionHandler.Fetch fetch, int maxWaitMs,
                                       int responseBytesMax) {
        return request(localBrokerId, fetch, maxWaitMs, ReplicaFetcherConfig.MIN_BYTES_DEFAULT, responseBytesMax);
    }

    /** The same with {@code minBytes} (replica.fetch.min.bytes). */
    public static FetchRequest request(int localBrokerId, FetchSessionHandler.Fetch fetch, int maxWaitMs, int minBytes,
                                       int responseBytesMax) {
        FetchRequest request = new FetchRequest();
        request.replicaId = localBrokerId;
        request.maxWaitMs = maxWaitMs;
        request.minBytes = minBytes;
        request.maxBytes = responseBytesMax;
        fetch.fill(request);
        return request;
    }

    /**
     * What a partition's answer leaves it to do next, as Kafka's AbstractFetcherThread sorts a fetch's partitions:
     * fetch on, wait out replica.fetch.backoff.ms alone while the others go on (its partitionsWithError, delayed by
     * delayPartitions), or stop fetching until the controller's next LeaderAndIsr for it (markPartitionFailed).
     */
    public enum Outcome { FETCH_ON, DELAY, FAILED }

    /**
     * What a follower asks its leader when the leader answers its fetch offset is out of range, as Kafka's
     * LeaderEndPoint.fetchLatestOffset / fetchEarliestOffset (a ListOffsets from the replica: the latest offset is the
     * leader's log end, not its high watermark). Each call waits for the leader's answer.
     */
    public interface LeaderOffsets {
        /** The leader's log end offset for {@code tp}, asked at {@code currentLeaderEpoch}. */
        long latest(TopicPartition tp, int currentLeaderEpoch) throws LeaderOffsetsException;

        /** The leader's log start offset for {@code tp}, asked at {@code currentLeaderEpoch}. */
        long earliest(TopicPartition tp, int currentLeaderEpoch) throws LeaderOffsetsException;
    }

    /** The leader could not be asked, or answered an error ({@link #errorCode}, else -1). */
    public static final class LeaderOffsetsException extends Exception {
        private final short errorCode;

        public LeaderOffsetsException(short errorCode, String message, Throwable cause) {
            super(message, cause);
            this.errorCode = errorCode;
        }

        public short errorCode() {
            return errorCode;
        }
    }

    /**
     * Applies one partition's answer from leader {@code leaderId} to a fetch that named it at leader epoch
     * {@code requestEpoch}, as Kafka's AbstractFetcherThread.processFetchRequest: records are appended and the high
     * watermark taken; a diverging epoch truncates; OFFSET_OUT_OF_RANGE asks {@code leader} for its offsets (see
     * {@link #outOfRange}); FENCED_LEADER_EPOCH at the epoch this replica still has fails the partition (it waits for
     * the new LeaderAndIsr); invalid records and every other error delay it.
     *
     * @throws IOException the disk refused the append or the truncation: Kafka's fetcher marks the partition failed
     *                     (its caller does)
     */
    public static Outcome handle(Partition p, int leaderId, int requestEpoch, FetchResponse.PartitionData data,
                                 LeaderOffsets leader) throws IOException {
        try {
            if (data.errorCode == NONE) return apply(p, leaderId, data);
            if (data.errorCode == OFFSET_OUT_OF_RANGE) return outOfRange(p, leaderId, requestEpoch, leader);
            if (data.errorCode == FENCED_LEADER_EPOCH && requestEpoch == p.leaderEpoch()) return fenced(p, leaderId,
                    requestEpoch);
            LOG.log(System.Logger.Level.DEBUG, "Broker {0} answered {1} for {2}", leaderId, data.errorCode,
                    p.topicPartition());
            return Outcome.DELAY;
        } catch (CorruptRecordException e) {
            // Kafka's fetcher logs it and retries the partition later: a partial batch heals on the next fetch.
            LOG.log(System.Logger.Level.ERROR, "Invalid records from broker " + leaderId + " for "
                    + p.topicPartition() + " at offset " + p.logEndOffset(), e);
            return Outcome.DELAY;
        }
    }

    /** Kafka's onPartitionFenced: the leader is past this replica's epoch; retrying cannot help. */
    private static Outcome fenced(Partition p, int leaderId, int requestEpoch) {
        LOG.log(System.Logger.Level.INFO, "{0} has an older epoch ({1}) than leader {2}: awaiting the new "
                + "LeaderAndIsr before fetching it again", p.topicPartition(), requestEpoch, leaderId);
        return Outcome.FAILED;
    }

    /**
     * Kafka's AbstractFetcherThread.handleOutOfRangeError / fetchOffsetAndTruncate: the leader's log end is asked
     * first; a follower past it (an unclean election made a shorter log the leader's) truncates to it. Otherwise the
     * leader's log start is asked: a follower behind it (the leader deleted what it still needs) starts again there
     * with an empty log; one within the leader's log keeps its own and fetches again (the leader's log grew meanwhile).
     * Either way it fetches on at once. A leader that cannot be asked, or answers an error, leaves the partition to
     * wait out the backoff, except FENCED_LEADER_EPOCH at this replica's own epoch, which fails it as in a fetch.
     */
    static Outcome outOfRange(Partition p, int leaderId, int requestEpoch, LeaderOffsets leader) throws IOException {
        TopicPartition tp = p.topicPartition();
        long replicaEnd = p.logEndOffset();
        try {
            long leaderEnd = leader.latest(tp, requestEpoch);
            if (leaderEnd < replicaEnd) {
                LOG.log(System.Logger.Level.WARNING, "Reset fetch offset for partition {0} from {1} to current "
                        + "leader {2}''s latest offset {3}", tp, replicaEnd, leaderId, leaderEnd);
                p.truncateTo(leaderEnd);
                return Outcome.FETCH_ON;
            }
            long leaderStart = leader.earliest(tp, requestEpoch);
            LOG.log(System.Logger.Level.WARNING, "Reset fetch offset for partition {0} from {1} to current leader "
                    + "{2}''s start offset {3}", tp, replicaEnd, leaderId, leaderStart);
            if (leaderStart > replicaEnd) p.truncateFullyAndStartAt(leaderStart);
            return Outcome.FETCH_ON;
        } catch (LeaderOffsetsException e) {
            if (e.errorCode() == FENCED_LEADER_EPOCH && requestEpoch == p.leaderEpoch()) {
                return fenced(p, leaderId, requestEpoch);
            }
            LOG.log(System.Logger.Level.INFO, "Could not handle offset out of range for " + tp + " from broker "
                    + leaderId + ": " + e.getMessage());
            return Outcome.DELAY;
        }
    }

    private static Outcome apply(Partition p, int leaderId, FetchResponse.PartitionData data) throws IOException {
        if (data.divergingEpoch != null && data.divergingEpoch.epoch >= 0) {
            long agreed = truncationOffset(p.log().leaderEpochs(), p.logEndOffset(), data.divergingEpoch.epoch,
                    data.divergingEpoch.endOffset);
            LOG.log(System.Logger.Level.INFO, "Truncating {0} to {1}: its log diverges from leader {2} at epoch {3}",
                    p.topicPartition(), agreed, leaderId, data.divergingEpoch.epoch);
            p.truncateTo(agreed);
            return Outcome.FETCH_ON;
        }
        if (data.records != null && data.records.readableBytes() > 0) {
            p.appendAsFollower(data.records);
        }
        p.followerHighWatermark(data.highWatermark);
        return Outcome.FETCH_ON;
    }

    /**
     * Where a follower truncates when its leader says its log diverges at {@code leaderEpoch}, ending at
     * {@code leaderEndOffset}: Kafka's AbstractFetcherThread.getOffsetTruncationState over this log's own
     * {@link LeaderEpochCache#endOffsetFor}. An epoch this log does not know ends at the leader's offset; one it knows
     * only below (a smaller epoch answered) ends where that epoch ends here, and the next fetch finds the rest; the
     * same epoch ends at the smaller of both ends. Never past this log's end.
     */
    static long truncationOffset(LeaderEpochCache epochs, long logEndOffset, int leaderEpoch, long leaderEndOffset) {
        long[] local = epochs.endOffsetFor(leaderEpoch, logEndOffset);
        if (local[1] == LeaderEpochCache.UNDEFINED_EPOCH_OFFSET) return Math.min(leaderEndOffset, logEndOffset);
        if (local[0] != leaderEpoch) return Math.min(local[1], logEndOffset);
        return Math.min(Math.min(local[1], leaderEndOffset), logEndOffset);
    }
}
