package io.tandem.kafka.wire.record;

import io.tandem.kafka.wire.compress.CompressionType;

/**
 * The attribute bits a record batch (v2) and a legacy message (v0, v1) share, at the same places in both as Kafka
 * defines them: the codec in bits 0-2 ({@link CompressionType#ATTRIBUTE_MASK}) and the timestamp type in bit 3.
 */
final class RecordAttributes {
    /** Set: the timestamps are the broker's log append time; clear: the producer's create time. */
    static final int TIMESTAMP_TYPE_MASK = 0x08;

    private RecordAttributes() {
    }

    /** @throws CorruptRecordException naming {@code what} for the undefined codec ids 5..7 */
    static CompressionType compression(int attributes, String what) {
        int id = attributes & CompressionType.ATTRIBUTE_MASK;
        CompressionType type = CompressionType.forIdOrNull(id);
        if (type == null) {
            throw new CorruptRecordException(what + " uses unknown compression type id " + id);
        }
        return type;
    }

    static boolean isCompressed(int attributes) {
        return (attributes & CompressionType.ATTRIBUTE_MASK) != 0;
    }

    /** The timestamp type of a batch or of a v1 message (v0 has no timestamps at all). */
    static TimestampType timestampType(int attributes) {
        return (attributes & TIMESTAMP_TYPE_MASK) == 0 ? TimestampType.CREATE_TIME : TimestampType.LOG_APPEND_TIME;
    }
}
