package io.tandem.server.kafka.errors;

import io.tandem.kafka.wire.Errors;

/**
 * The failure a request is answered with: its error and the failing exception's message. Kafka's builders take one of
 * two messages from it, depending on the API: the exception's, as {@code ApiError.fromThrowable} gives it
 * ({@link #apiMessage}), or the error's own default ({@link #defaultMessage}).
 */
record Failure(Errors error, String message) {
    short code() {
        return error.code();
    }

    /** ApiError.fromThrowable's message: the exception's, but the error's own for UNKNOWN_SERVER_ERROR. */
    String apiMessage() {
        return error == Errors.UNKNOWN_SERVER_ERROR ? error.message() : message;
    }

    /** The error's default message (Errors.message()), which some builders use whatever the exception says. */
    String defaultMessage() {
        return error.message();
    }
}
