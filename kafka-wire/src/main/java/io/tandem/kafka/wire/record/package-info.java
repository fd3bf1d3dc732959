/**
 * Kafka record formats: record batches v2 ({@link io.tandem.kafka.wire.record.RecordBatch},
 * {@link io.tandem.kafka.wire.record.RecordBatches}, records and their builder), legacy message sets v0/v1 and the
 * conversions between the formats.
 *
 * <p>Owns the byte layouts of record data only. It reads and patches batches in place over Netty buffers and never
 * copies record bytes it does not need; it does not own buffer lifetimes (views neither retain nor release), offsets
 * policy, validation policy (idempotence, max.message.bytes, timestamps) or storage: those belong to the broker and the
 * log. Every malformed input surfaces as {@link io.tandem.kafka.wire.record.CorruptRecordException}.
 */
package io.tandem.kafka.wire.record;
