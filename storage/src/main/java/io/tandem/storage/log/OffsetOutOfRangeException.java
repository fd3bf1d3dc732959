package io.tandem.storage.log;

/** A read or DeleteRecords named an offset outside [log start offset, log end offset] (Kafka's OFFSET_OUT_OF_RANGE). */
public final class OffsetOutOfRangeException extends RuntimeException {
    public OffsetOutOfRangeException(String message) {
        super(message);
    }
}
