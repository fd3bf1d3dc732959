package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;

/** A client quota request Kafka refuses, with the error and message Kafka answers. */
final class ClientQuotaException extends Exception {
    private final short error;

    ClientQuotaException(short error, String message) {
        super(message);
        this.error = error;
    }

    static ClientQuotaException invalid(String message) {
        return new ClientQuotaException(Errors.INVALID_REQUEST.code(), message);
    }

    short error() {
        return error;
    }
}
