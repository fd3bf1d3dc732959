package io.tandem.server.kafka;

/** A request failed with a Kafka protocol error: the handler answers with the code and message. */
public final class ApiException extends RuntimeException {
    private final short error;

    public ApiException(short error, String message) {
        super(message, null, false, false);
        this.error = error;
    }

    public short error() {
        return error;
    }
}
