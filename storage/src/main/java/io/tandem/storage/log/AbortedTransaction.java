package io.tandem.storage.log;

/**
 * An aborted transaction as Kafka's transaction index records it: records of {@code producerId} in
 * [{@code firstOffset}, {@code lastOffset}] were aborted ({@code lastOffset} is the ABORT marker's offset), and the
 * last stable offset once it completed. A read_committed fetch reports (producerId, firstOffset) pairs.
 */
public record AbortedTransaction(long producerId, long firstOffset, long lastOffset, long lastStableOffset) {
}
