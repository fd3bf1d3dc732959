package io.tandem.kafka.client;

/**
 * No broker could be reached, a connection broke, or a broker did not answer in time. Unlike a
 * {@link KafkaClientException} with an error code, the broker never said anything about the request.
 */
public final class KafkaNetworkException extends KafkaClientException {
    private static final long serialVersionUID = 1L;

    public KafkaNetworkException(String message, Throwable cause) {
        super(null, message, cause);
    }

    public KafkaNetworkException(String message) {
        super(null, message);
    }
}
