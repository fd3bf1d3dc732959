package io.tandem.server.kafka.network;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.Map;

/**
 * Kafka's {@code max.connections} and {@code max.connections.per.ip}. As in Kafka, a connection from an address
 * that already has its maximum is closed right after it is accepted; when the broker-wide maximum is reached the
 * listener stops accepting (as Kafka's acceptor waits for a free slot), so new connections wait in the kernel's
 * backlog until one closes. Connections accepted in the same batch as the one that reached the maximum are closed.
 */
final class ConnectionLimits {
    private static final System.Logger LOG = System.getLogger(ConnectionLimits.class.getName());

    private final int connectionsMax;
    private final int perIpMax;
    /** Guarded by this. */
    private final Map<InetAddress, Integer> perIp = new HashMap<>();
    private int total;

    ConnectionLimits(int connectionsMax, int perIpMax) {
        this.connectionsMax = connectionsMax;
        this.perIpMax = perIpMax;
    }

    /** Counts a new connection, or returns false if it must be closed. Its count goes when it closes. */
    boolean admit(Channel connection) {
        InetSocketAddress remote = (InetSocketAddress) connection.remoteAddress();
        if (remote == null) return false; // already closed by the peer
        InetAddress address = remote.getAddress();
        Channel listener = connection.parent();
        synchronized (this) {
            int fromAddress = perIp.getOrDefault(address, 0);
            if (fromAddress >= perIpMax) {
                LOG.log(System.Logger.Level.INFO, "Rejected Kafka connection from {0}, address already has the "
                        + "configured maximum of {1} connections (max.connections.per.ip)", address, perIpMax);
                return false;
            }
            if (total >= connectionsMax) {
                LOG.log(System.Logger.Level.INFO, "Rejected Kafka connection from {0}: the broker has the configured "
                        + "maximum of {1} connections (max.connections)", address, connectionsMax);
                return false;
            }
            perIp.put(address, fromAddress + 1);
            total++;
            if (total >= connectionsMax) listener.config().setAutoRead(false);
        }
        connection.closeFuture().addListener(f -> closed(listener, address));
        return true;
    }

    private synchronized void closed(Channel listener, InetAddress address) {
        perIp.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
        total--;
        if (total < connectionsMax && !listener.config().isAutoRead()) listener.config().setAutoRead(true);
    }
}
