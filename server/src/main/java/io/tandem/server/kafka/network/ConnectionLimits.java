package io.tandem.server.kafka.network;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Set;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Kafka's {@code max.connections} and {@code max.connections.per.ip}, over all of a broker's listeners together as
 * Kafka's ConnectionQuotas counts them. As in Kafka, a connection from an address that already has its maximum is
 * closed right after it is accepted; when the broker-wide maximum is reached the listeners stop accepting (as Kafka's
 * acceptors wait for a free slot), so new connections wait in the kernel's backlog until one closes. Connections
 * accepted in the same batch as the one that reached the maximum are closed. The inter-broker listener, when there
 * are others, is protected as in Kafka: it goes on accepting past the broker-wide maximum (Kafka then also closes the
 * least recently used connection of another listener, which Tandem does not). Both maxima change at runtime through
 * dynamic broker configuration ({@link #update}), as Kafka's DynamicConnectionQuota changes them: connections already
 * open stay, new ones are judged by the new maxima.
 */
public final class ConnectionLimits {
    private static final System.Logger LOG = System.getLogger(ConnectionLimits.class.getName());

    /** Guarded by this. */
    private int connectionsMax;
    private int perIpMax;
    /** The bound listening channels, and whether each is protected (accepts past the broker-wide maximum). */
    private final Map<Channel, Boolean> listeners = new LinkedHashMap<>();
    private final Map<InetAddress, Integer> perIp = new HashMap<>();
    /** Listeners holding a connection for max.connection.creation.rate: not accepting whatever the counts. */
    private final Set<Channel> paused = new HashSet<>();
    private int total;
    private volatile ConnectionRateLimiter rates = ConnectionRateLimiter.NONE;

    public ConnectionLimits(int connectionsMax, int perIpMax) {
        this.connectionsMax = connectionsMax;
        this.perIpMax = perIpMax;
    }

    /**
     * A listener is bound: from now on it stops accepting at the broker-wide maximum, unless it is {@code protect}ed
     * (Kafka's protectedListener: the inter-broker listener of a broker with more than one).
     */
    synchronized void listening(Channel serverChannel, boolean protect) {
        listeners.put(serverChannel, protect);
        serverChannel.closeFuture().addListener(f -> forget(serverChannel));
        applyAccepting();
    }

    private synchronized void forget(Channel serverChannel) {
        listeners.remove(serverChannel);
        paused.remove(serverChannel);
    }

    /** The connection creation rates the listeners' acceptors apply (set before the listeners bind). */
    public void rates(ConnectionRateLimiter limiter) {
        this.rates = limiter;
    }

    ConnectionRateLimiter rates() {
        return rates;
    }

    /** A listener's acceptor waits out a connection rate's throttle (true) or is done waiting (false). */
    synchronized void pauseAccepting(Channel serverChannel, boolean pause) {
        if (pause) paused.add(serverChannel);
        else paused.remove(serverChannel);
        applyAccepting();
    }

    /** New maxima (dynamic max.connections / max.connections.per.ip): they judge the connections accepted from now. */
    public synchronized void update(int newConnectionsMax, int newPerIpMax) {
        if (newConnectionsMax == connectionsMax && newPerIpMax == perIpMax) return;
        connectionsMax = newConnectionsMax;
        perIpMax = newPerIpMax;
        LOG.log(System.Logger.Level.INFO, "Kafka connection limits now max.connections={0}, max.connections.per.ip={1}",
                Integer.toString(connectionsMax), Integer.toString(perIpMax));
        applyAccepting();
    }

    /** The listeners accept while the broker is below its maximum (a protected one always). Guarded by this. */
    private void applyAccepting() {
        boolean accept = total < connectionsMax;
        listeners.forEach((listener, protect) -> {
            boolean read = (accept || protect) && !paused.contains(listener);
            if (listener.config().isAutoRead() != read) listener.config().setAutoRead(read);
        });
    }

    /** Counts a new connection, or returns false if it must be closed. Its count goes when it closes. */
    boolean admit(Channel connection) {
        InetSocketAddress remote = (InetSocketAddress) connection.remoteAddress();
        if (remote == null) return false; // already closed by the peer
        InetAddress address = remote.getAddress();
        synchronized (this) {
            int fromAddress = perIp.getOrDefault(address, 0);
            if (fromAddress >= perIpMax) {
                LOG.log(System.Logger.Level.INFO, "Rejected Kafka connection from {0}, address already has the "
                        + "configured maximum of {1} connections (max.connections.per.ip)", address, perIpMax);
                return false;
            }
            if (total >= connectionsMax && !Boolean.TRUE.equals(listeners.get(connection.parent()))) {
                LOG.log(System.Logger.Level.INFO, "Rejected Kafka connection from {0}: the broker has the configured "
                        + "maximum of {1} connections (max.connections)", address, connectionsMax);
                return false;
            }
            perIp.put(address, fromAddress + 1);
            total++;
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
