package io.tandem.server.kafka.network;

import io.netty.channel.ChannelPipeline;

/**
 * Watches the Kafka listener for the node's metrics without the network code knowing about them: each connection's
 * pipeline as it is set up, and each request's answer through a wrapped {@link Responder}. {@link #NONE} (the
 * default) adds nothing. Implementations must be cheap: {@link #observe} runs for every request, on the request handler thread
 * that decoded it.
 */
public interface RequestObserver {
    /** Observes nothing. */
    RequestObserver NONE = new RequestObserver() {
        @Override
        public Responder observe(RequestContext request, Responder responder) {
            return responder;
        }

        @Override
        public void connectionOpened(ChannelPipeline pipeline) {
        }
    };

    /** A decoded request about to be handled: returns the responder its handler answers through. */
    Responder observe(RequestContext request, Responder responder);

    /** A new connection's pipeline, once its handlers are in place (e.g. to count its bytes). */
    void connectionOpened(ChannelPipeline pipeline);
}
