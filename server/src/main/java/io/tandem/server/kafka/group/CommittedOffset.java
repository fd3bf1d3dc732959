package io.tandem.server.kafka.group;

/**
 * A committed consumer offset as OffsetCommit carries it: the metadata string round-trips exactly as committed
 * (clients store their own data there).
 */
public record CommittedOffset(long offset, int leaderEpoch, String metadata, long commitTimestampMs) {
}
