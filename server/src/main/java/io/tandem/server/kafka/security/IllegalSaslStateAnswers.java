package io.tandem.server.kafka.security;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.ApiMessage;
import io.tandem.kafka.wire.Errors;
import io.tandem.server.kafka.errors.ErrorResponses;

/**
 * What Kafka's SaslServerAuthenticator answers to a request other than SaslAuthenticate once the token exchange of a
 * v1 SaslHandshake began (IllegalSaslStateException): that request's own error response, as its
 * {@code AbstractRequest.getErrorResponse} builds it ({@link ErrorResponses}), with ILLEGAL_SASL_STATE; the close
 * follows once it is written, after connection.failed.authentication.delay.ms like every failed authentication's
 * answer. {@link #answer} gives null for an acks=0 Produce, which Kafka never answers: the connection then closes
 * without an answer.
 */
public final class IllegalSaslStateAnswers {
    private IllegalSaslStateAnswers() {
    }

    /**
     * The IllegalSaslStateException's message, as SaslServerAuthenticator words it; Kafka's ApiKeys prints as its
     * constant name, which Tandem's key names share.
     */
    public static String message(ApiKey key) {
        return "Unexpected Kafka request of type " + key.name() + " during SASL authentication.";
    }

    /**
     * The error answer to the request in {@code frame} (its body, after the header of API {@code key} at
     * {@code version}), or null when there is none.
     *
     * @throws RuntimeException when the request cannot be parsed (Kafka's InvalidRequestException: no answer)
     */
    public static ApiMessage answer(ApiKey key, short version, ByteBuf frame) {
        if (version < key.minVersion() || version > key.latestVersion()) {
            throw new IllegalArgumentException(key.apiName() + " v" + version + " is not a version of the API");
        }
        ApiMessage request = key.readRequest(frame, version);
        return ErrorResponses.build(key, version, request, Errors.ILLEGAL_SASL_STATE, message(key));
    }
}
