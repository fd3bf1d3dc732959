package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiMessage;

/** The broker side of one Kafka API key. Runs on a request-handler thread, never on a Netty event loop. */
@FunctionalInterface
public interface ApiHandler<Q extends ApiMessage> {
    void handle(RequestContext context, Q request, Responder responder) throws Exception;
}
