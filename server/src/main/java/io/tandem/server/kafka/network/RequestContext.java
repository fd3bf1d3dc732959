package io.tandem.server.kafka.network;

import io.tandem.kafka.wire.ApiKey;

import java.net.InetSocketAddress;

/**
 * What a handler knows about the request besides its body; {@code listenerName} is the listener it came in on
 * (clients are told other brokers' endpoints on the same listener, as Kafka does); {@code principal} is the
 * connection's authenticated principal as Kafka names it ({@code User:alice}, {@code User:ANONYMOUS});
 * {@code securityProtocol} is the listener's (PLAINTEXT, SSL, SASL_PLAINTEXT, SASL_SSL) and {@code tokenAuthenticated}
 * says the principal logged in with a delegation token (both decide whether delegation token requests are allowed);
 * {@code connectionId} names the connection among all of the broker's, as {@link ConnectionCloseListener}s are told
 * it when it closes (null for a request that came through no connection).
 */
public record RequestContext(ApiKey apiKey, short apiVersion, int correlationId, String clientId,
                             InetSocketAddress clientAddress, String listenerName, String principal,
                             int requestBytes, ChannelThrottle throttle, String securityProtocol,
                             boolean tokenAuthenticated, String connectionId) {
    /**
     * {@code requestBytes} is the request's size without its length prefix (what Kafka's produce quota counts);
     * {@code throttle} mutes the connection for a quota's throttle time.
     */
    public RequestContext(ApiKey apiKey, short apiVersion, int correlationId, String clientId,
                          InetSocketAddress clientAddress, String listenerName, String principal) {
        this(apiKey, apiVersion, correlationId, clientId, clientAddress, listenerName, principal, 0,
                ChannelThrottle.NONE, "PLAINTEXT", false, null);
    }

    /** Kafka reports members' hosts as "/ip" (InetAddress.toString of an unresolved-name address). */
    /** The client's IP address as ACL host entries name it. */
    public String clientIp() {
        return clientAddress == null ? "" : clientAddress.getAddress().getHostAddress();
    }

    public String clientHost() {
        return clientAddress == null ? "" : "/" + clientAddress.getAddress().getHostAddress();
    }
}
