package io.tandem.storage.log;

/**
 * What an append stored.
 *
 * @param firstOffset   base offset of the first batch
 * @param lastOffset    last offset of the last batch
 * @param maxTimestamp  largest batch max timestamp (the log append time when the log stamped it), -1 if none
 * @param logAppendTime the time stamped into LogAppendTime batches, -1 when timestamps are the producer's
 * @param batches       number of batches
 * @param bytes         bytes appended
 */
public record LogAppendInfo(long firstOffset, long lastOffset, long maxTimestamp, long logAppendTime, int batches,
                            int bytes) {
}
