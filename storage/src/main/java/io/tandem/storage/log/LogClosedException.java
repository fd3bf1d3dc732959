package io.tandem.storage.log;

/**
 * The log was closed (its partition deleted or moved away, or the broker stopping) while a reader still held it: a
 * fetch parked before the deletion reads it when it wakes up. Not a storage failure: the partition is gone here.
 */
public final class LogClosedException extends IllegalStateException {
    public LogClosedException(String message) {
        super(message);
    }
}
