package io.tandem.kafka.wire.record;

import io.netty.buffer.ByteBuf;

/**
 * One logical record of a legacy message set, after unwrapping compressed wrappers: absolute offset, effective
 * timestamp (a LogAppendTime wrapper's time overrides its inner messages'), key and value slices, and the message it
 * was read from. Slices are valid as long as the set's buffer (or the deep iterator, for compressed wrappers) is.
 */
public record LegacyRecord(long offset, long timestamp, TimestampType timestampType, ByteBuf key, ByteBuf value,
                           LegacyMessage message) {
}
