package io.tandem.server.kafka.replica;

import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.kafka.log.Partition;
import io.tandem.storage.log.LeaderEpochCache;

import java.io.IOException;
import java.util.Collection;
import java.util.Map;

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

    /** A replica Fetch (v12 fields) from {@code localBrokerId} for {@code partitions}, each from its log end. */
    public static FetchRequest request(int localBrokerId, Collection<Partition> partitions, int maxWaitMs,
                                       int responseBytesMax, int partitionBytesMax) {
        FetchRequest request = new FetchRequest();
        request.replicaId = localBrokerId;
        request.maxWaitMs = maxWaitMs;
        request.minBytes = 1;
        request.maxBytes = responseBytesMax;
        request.sessionId = 0;
        request.sessionEpoch = -1;
        Map<String, FetchRequest.FetchTopic> byTopic = new java.util.LinkedHashMap<>();
        for (Partition p : partitions) {
            FetchRequest.FetchTopic topic = byTopic.computeIfAbsent(p.topicPartition().topic(), name -> {
                FetchRequest.FetchTopic t = new FetchRequest.FetchTopic();
                t.topic = name;
                return t;
            });
            FetchRequest.FetchPartition fp = new FetchRequest.FetchPartition();
            fp.partition = p.topicPartition().partition();
            fp.currentLeaderEpoch = p.leaderEpoch();
            fp.fetchOffset = p.logEndOffset();
            fp.lastFetchedEpoch = p.log().leaderEpochs().latestEpoch();
            fp.logStartOffset = p.logStartOffset();
            fp.partitionMaxBytes = partitionBytesMax;
            topic.partitions.add(fp);
        }
        request.topics.addAll(byTopic.values());
        return request;
    }

    /** Applies one partition's answer from leader {@code leaderId}; false when it should wait before fetching again. */
    public static boolean apply(Partition p, int leaderId, FetchResponse.PartitionData data) throws IOException {
        if (data.errorCode == OFFSET_OUT_OF_RANGE && data.logStartOffset > p.logEndOffset()) {
            // Far behind a leader whose log start moved past us: start again from there, as Kafka's follower does.
            p.truncateFullyAndStartAt(data.logStartOffset);
            return true;
        }
        if (data.errorCode != NONE) {
            LOG.log(System.Logger.Level.DEBUG, "Broker {0} answered {1} for {2}", leaderId, data.errorCode,
                    p.topicPartition());
            return false;
        }
        if (data.divergingEpoch != null && data.divergingEpoch.epoch >= 0) {
            long agreed = truncationOffset(p.log().leaderEpochs(), p.logEndOffset(), data.divergingEpoch.epoch,
                    data.divergingEpoch.endOffset);
            LOG.log(System.Logger.Level.INFO, "Truncating {0} to {1}: its log diverges from leader {2} at epoch {3}",
                    p.topicPartition(), agreed, leaderId, data.divergingEpoch.epoch);
            p.truncateTo(agreed);
            return true;
        }
        if (data.records != null && data.records.readableBytes() > 0) {
            p.appendAsFollower(data.records);
        }
        p.followerHighWatermark(data.highWatermark);
        return true;
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
