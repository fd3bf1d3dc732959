package io.tandem.server.kafka.handlers;

import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.SaslAuthenticateRequest;
import io.tandem.kafka.wire.message.SaslAuthenticateResponse;
import io.tandem.kafka.wire.message.SaslHandshakeRequest;
import io.tandem.kafka.wire.message.SaslHandshakeResponse;
import io.tandem.server.kafka.network.ApiHandler;
import io.tandem.server.kafka.network.RequestContext;
import io.tandem.server.kafka.network.Responder;

/**
 * SaslHandshake once a connection needs no more authentication (a PLAINTEXT or SSL listener, or after SASL
 * completed): ILLEGAL_SASL_STATE, as Kafka's KafkaApis answers. Before authentication the network layer hands these
 * requests to the connection's authenticator instead. SaslAuthenticate gets the same, see {@link #authenticate}.
 */
final class SaslHandshakeHandler implements ApiHandler<SaslHandshakeRequest> {
    @Override
    public void handle(RequestContext context, SaslHandshakeRequest request, Responder responder) {
        responder.send(new SaslHandshakeResponse().setErrorCode(Errors.ILLEGAL_SASL_STATE.code()));
    }

    /** SaslAuthenticate outside an exchange, with Kafka's message. */
    static ApiHandler<SaslAuthenticateRequest> authenticate() {
        return (context, request, responder) -> responder.send(new SaslAuthenticateResponse()
                .setErrorCode(Errors.ILLEGAL_SASL_STATE.code())
                .setErrorMessage("SaslAuthenticate request received after successful authentication"));
    }
}
