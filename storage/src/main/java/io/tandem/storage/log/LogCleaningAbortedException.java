package io.tandem.storage.log;

/**
 * A cleaning pass stopped because its caller asked it to (the cleaner threads are stopping): nothing was swapped in
 * after the stop, and the log is as a pass that never ran would leave it, apart from segments already swapped.
 * Kafka's LogCleaningAbortedException plays the same part.
 */
public final class LogCleaningAbortedException extends IllegalStateException {
    public LogCleaningAbortedException(String message) {
        super(message);
    }
}
