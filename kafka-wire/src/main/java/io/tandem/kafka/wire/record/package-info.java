/**
 * Kafka record formats: record batches v2 ({@link io.tandem.kafka.wire.record.RecordBatch},
 * {@link io.tandem.kafka.wire.record.RecordBatches}, {@link io.tandem.kafka.wire.record.RecordIterator},
 * {@link io.tandem.kafka.wire.record.RecordBatchBuilder}), legacy message sets v0/v1
 * ({@link io.tandem.kafka.wire.record.LegacyMessageSets}, {@link io.tandem.kafka.wire.record.LegacyMessageSetBuilder})
 * and the conversions between them ({@link io.tandem.kafka.wire.record.RecordConversion}).
 *
 * <p>Owns the byte layouts of record data only. Batches are read and patched in place over Netty buffers; record bytes
 * are never copied unless decompression requires it. It does not own buffer lifetimes (views neither retain nor
 * release; iterators over compressed data release what they allocated when closed), offset assignment policy,
 * produce validation policy (idempotence, max.message.bytes, timestamp bounds, compacted-topic keys) or storage: those
 * belong to the broker and the log. Every malformed input surfaces as
 * {@link io.tandem.kafka.wire.record.CorruptRecordException}, or as its subtype
 * {@link io.tandem.kafka.wire.record.InvalidRecordException} when a record inside an intact batch does not parse
 * (Kafka answers a produce INVALID_RECORD for that, CORRUPT_MESSAGE for damage to the batch itself); misuse of a
 * builder throws IllegalArgument/State.
 *
 * <p>The produce path, as the broker uses it (its {@code LogValidator}):
 * <pre>{@code
 * for (RecordBatch batch : RecordBatches.of(records)) {               // stops at a partial tail (Kafka trims it)
 *     if (batch.sizeInBytes() > maxMessageBytes) ...                  // MESSAGE_TOO_LARGE, not corruption
 *     if (!batch.hasValidCrc()) ...                                   // CRC32C, computed once
 *     try (RecordIterator it = batch.records()) { ... }               // every record: InvalidRecordException
 *     batch.setBaseOffset(nextOffset);                                // not covered by the CRC
 *     batch.setPartitionLeaderEpoch(leaderEpoch);                     // not covered by the CRC
 *     if (logAppendTime) batch.setMaxTimestamp(TimestampType.LOG_APPEND_TIME, now); // CRC rewritten
 * }
 * }</pre>
 * A v0/v1 client's message set is first rewritten as one v2 batch with {@link
 * io.tandem.kafka.wire.record.RecordConversion#upConvert}, which checks each legacy CRC32 on the way.
 * For fetches from v0/v1 clients, {@link io.tandem.kafka.wire.record.RecordConversion#downConvert} rewrites the log's
 * v2 batches (dropping control batches and headers, refusing zstd, which Kafka answers with
 * UNSUPPORTED_COMPRESSION_TYPE).
 */
package io.tandem.kafka.wire.record;
