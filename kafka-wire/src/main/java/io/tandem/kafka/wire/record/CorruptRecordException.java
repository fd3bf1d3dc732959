package io.tandem.kafka.wire.record;

/**
 * Record bytes that do not form a valid batch, message set or record: bad sizes, unknown magic, CRC mismatch, or a
 * compressed payload that does not decompress. This is the only exception type the record layer throws for bad input;
 * the broker answers it with Kafka's CORRUPT_MESSAGE error, except for its {@link InvalidRecordException} subtype
 * (a malformed record inside an intact batch), which Kafka answers with INVALID_RECORD.
 */
public class CorruptRecordException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public CorruptRecordException(String message) {
        super(message);
    }

    public CorruptRecordException(String message, Throwable cause) {
        super(message, cause);
    }
}
