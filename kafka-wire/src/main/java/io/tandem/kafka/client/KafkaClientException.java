package io.tandem.kafka.client;

import io.tandem.kafka.wire.Errors;

/**
 * A request the broker answered with an error code, or one the client could not complete. {@link #error()} is the
 * protocol error ({@code null} when there is none, as for a broken connection); see {@link KafkaNetworkException} for
 * brokers that cannot be reached at all.
 */
public class KafkaClientException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final transient Errors error;

    public KafkaClientException(Errors error, String message) {
        super(message);
        this.error = error;
    }

    public KafkaClientException(Errors error, String message, Throwable cause) {
        super(message, cause);
        this.error = error;
    }

    /** The protocol error the broker sent, or null when the failure did not come from the broker. */
    public Errors error() {
        return error;
    }

    /** A readable message for an error code in a response, with the broker's own message when it sent one. */
    static String describe(Errors error, String context, String brokerMessage) {
        String name = error == null ? "unknown error" : error.name();
        String text = context + ": " + name;
        if (brokerMessage != null && !brokerMessage.isBlank()) {
            text += " (" + brokerMessage + ")";
        }
        return text;
    }

    /** Throws if {@code code} is not NONE. */
    static void check(short code, String context, String brokerMessage) {
        if (code != 0) {
            Errors error = Errors.forCode(code);
            throw new KafkaClientException(error, describe(error, context, brokerMessage));
        }
    }
}
