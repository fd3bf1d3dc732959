package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiMessage;

/**
 * Fault injection's view of the Kafka listener (implemented by {@code io.tandem.server.fault.FaultController}): every
 * decoded request is offered to it before it is queued for a handler. {@link #NONE} (the default) takes nothing.
 * Called for every request (on the request handler thread that decoded it), so {@link #armed()} must be a cheap read; only when it is true is
 * {@link #intercept} called.
 */
public interface RequestFaults {
    /** What the listener does with the request after {@link #intercept}. */
    enum Outcome {
        /** Handle it as usual, now. */
        PASS,
        /** The fault took it: it was answered through the responder, or {@code resume} runs later (a delay). */
        TAKEN,
        /** Close the connection without an answer. */
        DROP
    }

    RequestFaults NONE = new RequestFaults() {
        @Override
        public boolean armed() {
            return false;
        }

        @Override
        public Outcome intercept(RequestContext request, ApiMessage body, Responder responder, Runnable resume,
                                 Runnable drop) {
            return Outcome.PASS;
        }
    };

    /** False while no rule exists: the listener then skips {@link #intercept}. */
    boolean armed();

    /**
     * Decides what happens to a request. A delayed request later runs {@code resume} (handle as usual) or
     * {@code drop} (close the connection), from another thread.
     */
    Outcome intercept(RequestContext request, ApiMessage body, Responder responder, Runnable resume, Runnable drop);

    /**
     * The responder a request that went ahead answers through: a fault may still take its answer, as a network
     * partition made while the request waited (a follower's fetch parked at its leader) loses the answer, and then
     * {@code drop} closes the connection. Called for every request, armed or not, since the fault may come later.
     */
    default Responder answering(ApiMessage body, Responder responder, Runnable drop) {
        return responder;
    }
}
