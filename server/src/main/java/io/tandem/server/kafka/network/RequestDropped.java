package io.tandem.server.kafka.network;

/**
 * Why a request in hand is given up without an answer: the broker stops before the request could go on (its
 * continuation or retry was refused by a stopped pool). Handed to {@link Responder#fail}, which releases the request's
 * frame and budget bytes and closes its connection; logged at DEBUG, not as a failure (nothing went wrong but the
 * stop). No stack trace: it is an expected outcome.
 */
public final class RequestDropped extends RuntimeException {
    public static final RequestDropped BROKER_STOPPING = new RequestDropped("the broker is stopping");

    private RequestDropped(String why) {
        super(why, null, false, false);
    }
}
