package io.tandem.kafka.wire.record;

/**
 * A record inside an intact batch does not parse: its length, a varint, a key or value size, the header count or a
 * header's sizes do not fit the record, or the records do not match the batch's declared count. Kafka's readers throw
 * their {@code InvalidRecordException} here, which a produce is answered with as INVALID_RECORD, while damage to the
 * batch itself (framing, CRC, a payload that does not decompress) stays a plain {@link CorruptRecordException}.
 * It extends that exception so readers that treat every malformed input alike keep catching one type.
 */
public final class InvalidRecordException extends CorruptRecordException {
    private static final long serialVersionUID = 1L;

    public InvalidRecordException(String message) {
        super(message);
    }
}
