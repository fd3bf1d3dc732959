package io.tandem.kafka.client;

import io.tandem.kafka.wire.Errors;

/**
 * A connection failed to authenticate: its TLS handshake failed ({@link #error()} null: TLS errors never reach the
 * wire as a Kafka error code) or the broker refused its SASL exchange (SASL_AUTHENTICATION_FAILED,
 * UNSUPPORTED_SASL_MECHANISM, ILLEGAL_SASL_STATE), as Kafka's clients raise SslAuthenticationException and
 * SaslAuthenticationException. Retrying with the same settings fails the same way.
 */
public final class KafkaAuthenticationException extends KafkaClientException {
    private static final long serialVersionUID = 1L;

    public KafkaAuthenticationException(Errors error, String message, Throwable cause) {
        super(error, message, cause);
    }
}
