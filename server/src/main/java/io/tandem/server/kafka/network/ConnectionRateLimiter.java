package io.tandem.server.kafka.network;

import java.net.InetAddress;

/**
 * Connection creation rates as Kafka's ConnectionQuotas measures them (KIP-612), asked by a listener's acceptor for
 * each connection it accepts, in order: first the broker-wide and the listener's {@code max.connection.creation.rate} (the acceptor
 * then waits before it takes the next connection), then the connection's IP quota (the connection is then closed
 * after the wait, unread).
 */
public interface ConnectionRateLimiter {
    /** No rates: nothing is measured or delayed. */
    ConnectionRateLimiter NONE = new ConnectionRateLimiter() {
        @Override
        public long acceptThrottleMs(String listener, boolean protectedListener) {
            return 0;
        }

        @Override
        public long ipThrottleMs(InetAddress address, String listener, boolean protectedListener) {
            return 0;
        }
    };

    /**
     * Records a new connection of {@code listener} against the broker-wide rate (a protected listener's are not
     * counted, as Kafka's inter-broker listener's) and the listener's own, and answers how long the acceptor is to
     * wait before it goes on (0: not at all).
     */
    long acceptThrottleMs(String listener, boolean protectedListener);

    /**
     * Records a connection from {@code address} against its IP quota; a positive answer refuses it: its record (and
     * its listener's and broker-wide ones) is taken back, and the connection is to be closed that many ms from now.
     */
    long ipThrottleMs(InetAddress address, String listener, boolean protectedListener);
}
