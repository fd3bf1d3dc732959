package io.tandem.server.kafka.network;

/**
 * The Kafka listener's limits, with Kafka's broker key for each. Checked once at start-up.
 *
 * @param frameBytesMax          {@code socket.request.max.bytes}: the largest request frame; larger closes the connection
 * @param networkThreads         {@code num.network.threads}: the Netty event loops that read, decode and write
 * @param connectionsMax         {@code max.connections}: past it the listener stops accepting (new connections wait in
 *                               the kernel's backlog, as Kafka's acceptor waits for a free slot)
 * @param connectionsPerIpMax    {@code max.connections.per.ip}: past it a new connection from that address is closed
 *                               right after it is accepted
 * @param connectionIdleMs       {@code connections.max.idle.ms}: a connection with no reads or writes for this long is
 *                               closed; negative: never
 * @param queuedRequestBytesMax  {@code queued.max.request.bytes}: bytes of requests read and not yet finished, over all
 *                               connections, past which no connection starts reading another request; 0 or less:
 *                               unbounded
 * @param failedAuthenticationDelayMs {@code connection.failed.authentication.delay.ms}: how long a connection whose
 *                               SASL authentication failed is held, unread, before its failure answer is sent and it
 *                               is closed (Kafka's Selector delays both, to slow down password guessing); 0: at once.
 *                               A held connection still counts against {@code max.connections} and
 *                               {@code max.connections.per.ip}, so a client cannot grow the held set past them
 */
public record ListenerLimits(int frameBytesMax, int networkThreads, int connectionsMax, int connectionsPerIpMax,
                             long connectionIdleMs, long queuedRequestBytesMax, int failedAuthenticationDelayMs) {
    public ListenerLimits {
        require(frameBytesMax > 0, "socket.request.max.bytes must be positive: " + frameBytesMax);
        require(networkThreads > 0, "num.network.threads must be positive: " + networkThreads);
        require(connectionsMax >= 0, "max.connections must be at least 0: " + connectionsMax);
        require(connectionsPerIpMax >= 0, "max.connections.per.ip must be at least 0: " + connectionsPerIpMax);
        require(connectionIdleMs != 0, "connections.max.idle.ms must not be 0 (-1: never close idle connections)");
        require(failedAuthenticationDelayMs >= 0,
                "connection.failed.authentication.delay.ms must be at least 0: " + failedAuthenticationDelayMs);
        // Kafka's KafkaConfig check, in its words: an idle close must not overtake a held failure answer.
        require(connectionIdleMs < 0 || failedAuthenticationDelayMs < connectionIdleMs,
                "connection.failed.authentication.delay.ms=" + failedAuthenticationDelayMs + " should always be less "
                        + "than connections.max.idle.ms=" + connectionIdleMs + " to prevent failed authentication "
                        + "responses from timing out");
        // Kafka's rule: a frame must always fit into an empty request memory pool.
        require(queuedRequestBytesMax <= 0 || queuedRequestBytesMax >= frameBytesMax,
                "queued.max.request.bytes (" + queuedRequestBytesMax + ") must be at least socket.request.max.bytes ("
                        + frameBytesMax + "), or -1 for no limit");
    }

    private static void require(boolean condition, String message) {
        if (!condition) throw new IllegalArgumentException(message);
    }
}
