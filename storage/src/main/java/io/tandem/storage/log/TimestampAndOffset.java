package io.tandem.storage.log;

/**
 * A ListOffsets answer: the record's timestamp and offset, and the leader epoch in force at that offset (-1 if
 * unknown).
 */
public record TimestampAndOffset(long timestamp, long offset, int leaderEpoch) {
}
