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
 * Both change at runtime through dynamic broker configuration ({@link #update}), as Kafka's DynamicConnectionQuota
 * changes them: connections already open stay, new ones are judged by the new maxima.
 */
final class ConnectionLimits {
    private static final System.Logger LOG = System.getLogger(ConnectionLimits.class.getName());

    /** Guarded by this. */
    private int connectionsMax;
    private int perIpMax;
    /** The listening channel, once bound: it stops accepting at the maximum. Guarded by this. */
    private Channel listener;
    /** Guarded by this. */
    private final Map<InetAddress, Integer> perIp = new HashMap<>();
    private int total;

    ConnectionLimits(int connectionsMax, int perIpMax) {
        this.connectionsMax = connectionsMax;
        this.perIpMax = perIpMax;
    }

    /** The listener is bound: from now on a lowered maximum can stop it accepting. */
    synchronized void listening(Channel serverChannel) {
        this.listener = serverChannel;
        applyAccepting();
    }

    /** New maxima (dynamic max.connections / max.connections.per.ip): they judge the connections accepted from now. */
    synchronized void update(int newConnectionsMax, int newPerIpMax) {
        if (newConnectionsMax == connectionsMax && newPerIpMax == perIpMax) return;
        connectionsMax = newConnectionsMax;
        perIpMax = newPerIpMax;
        LOG.log(System.Logger.Level.INFO, "Kafka connection limits now max.connections={0}, max.connections.per.ip={1}",
                Integer.toString(connectionsMax), Integer.toString(perIpMax));
        applyAccepting();
    }

    /** The listener accepts while the broker is below its maximum. Guarded by this. */
    private void applyAccepting() {
        if (listener == null) return;
        boolean accept = total < connectionsMax;
        if (listener.config().isAutoRead() != accept) listener.config().setAutoRead(accept);
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
            if (this.listener == null) this.listener = listener;
            applyAccepting();
        }
        connection.closeFuture().addListener(f -> closed(address));
        return true;
    }

    private synchronized void closed(InetAddress address) {
        perIp.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
        total--;
        applyAccepting();
    }
}
