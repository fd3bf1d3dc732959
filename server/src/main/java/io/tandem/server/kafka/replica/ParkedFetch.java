package io.tandem.server.kafka.replica;

import io.tandem.server.kafka.log.Partition;

import static io.tandem.server.kafka.ErrorCodes.NONE;

/**
 * The look a leader (or a serving follower) takes at one partition of a fetch waiting in its purgatory, as Kafka
 * 3.9's DelayedFetch.tryComplete takes it, apart from the purgatory and the reading: FetchHandler asks it for every
 * parked fetch, and the replication simulation asks it for the replica fetches its simulated leaders park, so both
 * run one set of rules.
 *
 * <p>Kafka's cases, in its order: the replica is gone or closed (B, C, D); the fetcher's epoch is fenced or this
 * broker no longer leads when the fetch needs the leader (A, E: {@link LeaderFetch#servingError}); the fetch offset
 * is past the end the fetch reads to, after a truncation (F); the fetch offset lies on an older segment than that
 * end (F: the log rolled past it, so the read at completion stops at that segment's end and waiting for min.bytes
 * would only delay what can be sent now); the log no longer agrees with the fetcher's last fetched epoch (H: it
 * must learn that to truncate); otherwise the bytes between the fetch offset and the end count toward min.bytes (G).
 * Kafka spares a throttled follower the older-segment case; Tandem has no replication quotas, so none is throttled.
 */
public final class ParkedFetch {
    private ParkedFetch() {
    }

    /** Where a fetch reads to: Kafka's FetchIsolation. */
    public enum Isolation {
        /** A follower's fetch: the log end. */
        LOG_END,
        /** A consumer's read_uncommitted fetch: the high watermark. */
        HIGH_WATERMARK,
        /** A consumer's read_committed fetch: the last stable offset. */
        TXN_COMMITTED;

        public long end(Partition p) {
            return switch (this) {
                case LOG_END -> p.logEndOffset();
                case HIGH_WATERMARK -> p.highWatermark();
                case TXN_COMMITTED -> p.lastStableOffset();
            };
        }

        /** A follower's fetch reads to the log end, a read_committed one to the last stable offset. */
        public static Isolation of(boolean fromFollower, boolean readCommitted) {
            return fromFollower ? LOG_END : readCommitted ? TXN_COMMITTED : HIGH_WATERMARK;
        }
    }

    /** What one partition says of its parked fetch. */
    public enum Verdict {
        /** Answer the whole fetch now. */
        ANSWER_NOW,
        /** Records lie between the fetch offset and the end, on the end's segment: count them toward min.bytes. */
        COUNT_BYTES,
        /** Nothing to read yet. */
        WAIT
    }

    /**
     * The segment a fetch offset lies on, taken when the fetch is first read (Kafka keeps the fetch offset's
     * LogOffsetMetadata from that read): a fetch parked at the log end stays on the segment that was active then,
     * so a roll followed by appends answers it at once, as in Kafka.
     */
    public static long fetchSegment(Partition p, long fetchOffset) {
        return p.log().segmentBaseOffsetFor(fetchOffset);
    }

    /**
     * One partition of a parked fetch: from {@code fetchOffset} (on segment {@code fetchSegment}, see
     * {@link #fetchSegment}), reading to {@code isolation}'s end, by a fetcher at {@code fetcherEpoch} (-1: none, or
     * below Fetch v9) with {@code lastFetchedEpoch} (-1: none, or below Fetch v12), needing the leader when
     * {@code onlyLeader}.
     */
    public static Verdict check(Partition p, long fetchOffset, long fetchSegment, Isolation isolation,
                                int fetcherEpoch, boolean onlyLeader, int lastFetchedEpoch) {
        if (p.log().isClosed()) return Verdict.ANSWER_NOW;
        if (LeaderFetch.servingError(p, fetcherEpoch, onlyLeader) != NONE) return Verdict.ANSWER_NOW;
        long end = isolation.end(p);
        Verdict verdict = Verdict.WAIT;
        if (fetchOffset > end) {
            return Verdict.ANSWER_NOW;
        } else if (fetchOffset < end) {
            if (fetchSegment < p.log().segmentBaseOffsetFor(end)) return Verdict.ANSWER_NOW;
            verdict = Verdict.COUNT_BYTES;
        }
        if (LeaderFetch.divergedWhileParked(p, fetchOffset, lastFetchedEpoch)) return Verdict.ANSWER_NOW;
        return verdict;
    }
}
