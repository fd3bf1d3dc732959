package io.tandem.server.kafka.group;

/**
 * A committed consumer offset as OffsetCommit carries it: the metadata string round-trips exactly as committed
 * (clients store their own data there). {@code expireTimestampMs} is set only for an OffsetCommit v2-v4 that gave
 * its own retention time (Kafka then expires the offset at that time instead of by offsets.retention.minutes);
 * -1 otherwise.
 */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestampMs,
                              long expireTimestampMs) {
    public static final long NO_EXPIRE_TIMESTAMP = -1;

    public CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestampMs) {
        this(offset, leaderEpoch, metadata, commitTimestampMs, NO_EXPIRE_TIMESTAMP);
    }
}
