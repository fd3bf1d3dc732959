package io.tandem.server.kafka.network;

/**
 * The request_percentage quota, measured where every request passes: the time a request spent on a handler
 * thread, recorded when its answer is handed over (Kafka's sendResponseMaybeThrottle). The answer's
 * throttle_time_ms is raised to the throttle time and the connection is muted as for the byte-rate quotas.
 */
public interface RequestTimeQuota {
    /** No request quota. */
    RequestTimeQuota NONE = new RequestTimeQuota() {
        @Override
        public boolean armed() {
            return false;
        }

        @Override
        public int recordAndThrottle(RequestContext context, Object request, long handlerNanos) {
            return 0;
        }
    };

    /** Whether any request quota exists (nothing is measured otherwise). */
    boolean armed();

    /** Records the request's handler time; answers the throttle time (0: none), the connection already throttled. */
    int recordAndThrottle(RequestContext context, Object request, long handlerNanos);
}
