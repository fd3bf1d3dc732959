package io.tandem.server.kafka.network;

import io.netty.channel.Channel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Kafka's ConnectionQuotas' counts, over all of a broker's listeners together, with its rules:
 * <ul>
 *   <li>a listener takes a new connection only while it has a slot: fewer connections than its own
 *   {@code listener.name.<listener>.max.connections} (by default {@code max.connections}), and, unless it is the
 *   protected listener, fewer connections on the broker than {@code max.connections}. Without a slot Kafka's acceptor
 *   blocks, holding the connection it accepted, until one frees: here the listener's {@link AcceptThrottle} holds the
 *   connection and stops accepting (later ones wait in the kernel's backlog) until {@link #admit} says there is one;</li>
 *   <li>a connection from an address that already has {@code max.connections.per.ip} (or its
 *   {@code max.connections.per.ip.overrides} entry) connections is closed right after it is accepted;</li>
 *   <li>the protected listener (Kafka's: the inter-broker listener of a broker with more than one) goes on accepting
 *   past {@code max.connections}; the broker is then over it, and, as Kafka's processors of the other listeners each
 *   close their least recently used connection while it is, the least recently used connections of the other
 *   listeners are closed until it is back within it. The same happens when {@code max.connections} is lowered at
 *   runtime below the connections open ({@link #update}).</li>
 * </ul>
 * A connection is counted from its admission until its channel closes.
 */
public final class ConnectionLimits {
    private static final System.Logger LOG = System.getLogger(ConnectionLimits.class.getName());

    /** What a listener's acceptor does with a connection: {@code closeInMs} for {@link Kind#THROTTLED}. */
    record Admission(Kind kind, long closeInMs) {
        static final Admission ADMITTED = new Admission(Kind.ADMITTED, 0);
        static final Admission NO_SLOT = new Admission(Kind.NO_SLOT, 0);
        static final Admission TOO_MANY = new Admission(Kind.TOO_MANY, 0);
    }

    enum Kind {
        /** Counted: it goes on to be served. */
        ADMITTED,
        /** No slot: hold it (and stop accepting) until the listener's wake-up runs. */
        NO_SLOT,
        /** Over its address's maximum: close it now. */
        TOO_MANY,
        /** Over its address's connection creation rate: close it after {@link ConnectionRateLimiter#ipThrottleMs}. */
        THROTTLED
    }

    /** A bound listener and its connections, by the activity that orders them for eviction. Guarded by the limits. */
    private static final class Listener {
        final String name;
        final boolean protect;
        final Runnable wake;
        final Map<Channel, ConnectionActivity> connections = new HashMap<>();
        /** Whether its acceptor holds a connection for want of a slot (it is woken when one may have freed). */
        boolean waiting;

        Listener(String name, boolean protect, Runnable wake) {
            this.name = name;
            this.protect = protect;
            this.wake = wake;
        }
    }

    /** Guarded by this. */
    private ConnectionLimitSettings settings;
    private final Map<String, Listener> listeners = new LinkedHashMap<>();
    private final Map<InetAddress, Integer> perIp = new HashMap<>();
    /** Connections closed to bring the broker back within max.connections, until their close is counted. */
    private final Set<Channel> evicting = new HashSet<>();
    private int total;
    private volatile ConnectionRateLimiter rates = ConnectionRateLimiter.NONE;

    public ConnectionLimits(int connectionsMax, int perIpMax) {
        this(ConnectionLimitSettings.unlimited(connectionsMax, perIpMax));
    }

    public ConnectionLimits(ConnectionLimitSettings settings) {
        this.settings = settings;
    }

    /** The connection creation rates the listeners' acceptors apply (set before the listeners bind). */
    public void rates(ConnectionRateLimiter limiter) {
        this.rates = limiter;
    }

    ConnectionRateLimiter rates() {
        return rates;
    }

    /**
     * A listener is bound; {@code protect}: Kafka's protectedListener. {@code wake} runs (on any thread) when a slot
     * may have freed for a connection its acceptor holds.
     */
    synchronized void listening(String listener, boolean protect, Runnable wake) {
        listeners.put(key(listener), new Listener(listener, protect, wake));
    }

    /** The listener stopped: its connections are closing on their own; its acceptor waits no more. */
    synchronized void forget(String listener) {
        listeners.remove(key(listener));
    }

    /**
     * New limits (dynamic configuration, as Kafka's DynamicConnectionQuota and ListenerConnectionQuota apply them):
     * acceptors waiting for a slot look again, and if the broker is now over max.connections the least recently used
     * connections of the unprotected listeners are closed.
     */
    public void update(ConnectionLimitSettings next) {
        synchronized (this) {
            if (next.equals(settings)) return;
            settings = next;
            LOG.log(System.Logger.Level.INFO, "Kafka connection limits now max.connections={0}, "
                            + "max.connections.per.ip={1}, per-address overrides {2}, per-listener {3}",
                    Integer.toString(next.brokerMax()), Integer.toString(next.perIpDefault()), next.perIpOverrides(),
                    next.listenerMax());
        }
        wakeWaiting();
        evictExcess();
    }

    /**
     * Kafka's ConnectionQuotas.inc for a connection the listener's acceptor took, past its creation rate wait: a slot
     * (else {@link Admission#NO_SLOT}: nothing recorded), the address's creation rate, then the address's count. An
     * admitted connection is counted until its channel closes.
     */
    Admission admit(Channel connection, String listenerName) {
        InetSocketAddress remote = (InetSocketAddress) connection.remoteAddress();
        if (remote == null) return Admission.TOO_MANY; // already closed by the peer
        InetAddress address = remote.getAddress();
        Listener listener;
        synchronized (this) {
            listener = listeners.get(key(listenerName));
            if (listener == null) return Admission.TOO_MANY; // the listener is closing
            if (!slotAvailable(listener)) {
                listener.waiting = true;
                return Admission.NO_SLOT;
            }
            listener.waiting = false;
            long closeInMs = rates.ipThrottleMs(address, listener.name, protectedListener(listener));
            if (closeInMs > 0) return new Admission(Kind.THROTTLED, closeInMs);
            int fromAddress = perIp.getOrDefault(address, 0);
            int max = settings.perIpMax(address);
            if (fromAddress >= max) {
                LOG.log(System.Logger.Level.INFO, "Rejected connection from {0}, address already has the configured "
                        + "maximum of {1} connections.", address, max);
                return Admission.TOO_MANY;
            }
            perIp.put(address, fromAddress + 1);
            total++;
            ConnectionActivity activity = new ConnectionActivity();
            listener.connections.put(connection, activity);
            connection.attr(ConnectionActivity.KEY).set(activity);
        }
        Listener counted = listener;
        connection.closeFuture().addListener(f -> closed(counted, connection, address));
        if (counted.protect) evictExcess();
        return Admission.ADMITTED;
    }

    private synchronized boolean slotAvailable(Listener listener) {
        if (listener.connections.size() >= settings.listenerMax(listener.name)) return false;
        if (protectedListener(listener)) return true;
        return total < settings.brokerMax();
    }

    /** Kafka's protectedListener: the inter-broker listener, when the broker has more than one. Guarded by this. */
    private boolean protectedListener(Listener listener) {
        return listener.protect && listeners.size() > 1;
    }

    private void closed(Listener listener, Channel connection, InetAddress address) {
        synchronized (this) {
            perIp.computeIfPresent(address, (a, n) -> n == 1 ? null : n - 1);
            total--;
            listener.connections.remove(connection);
            evicting.remove(connection);
        }
        wakeWaiting();
    }

    /** Every acceptor holding a connection for want of a slot looks again (on its own event loop). */
    private void wakeWaiting() {
        List<Runnable> wakes = new ArrayList<>();
        synchronized (this) {
            for (Listener l : listeners.values()) {
                if (l.waiting) wakes.add(l.wake);
            }
        }
        wakes.forEach(Runnable::run);
    }

    /**
     * Kafka's Processor.closeExcessConnections: while the broker is over max.connections, the least recently used
     * connections of the unprotected listeners are closed (those already being closed count as closed).
     */
    private void evictExcess() {
        List<Channel> victims = new ArrayList<>();
        synchronized (this) {
            int excess = total - settings.brokerMax() - evicting.size();
            if (excess <= 0) return;
            List<Map.Entry<Channel, ConnectionActivity>> candidates = new ArrayList<>();
            for (Listener l : listeners.values()) {
                if (protectedListener(l)) continue;
                for (Map.Entry<Channel, ConnectionActivity> e : l.connections.entrySet()) {
                    // An unregistered channel cannot be closed through its pipeline yet; it is younger than any other.
                    if (!evicting.contains(e.getKey()) && e.getKey().isRegistered()) candidates.add(e);
                }
            }
            candidates.sort(Comparator.comparingLong(e -> e.getValue().lastActiveNanos()));
            for (int i = 0; i < excess && i < candidates.size(); i++) victims.add(candidates.get(i).getKey());
            evicting.addAll(victims);
        }
        for (Channel victim : victims) {
            LOG.log(System.Logger.Level.INFO, "Closing the least recently used connection from {0}: the broker is "
                    + "over max.connections", victim.remoteAddress());
            victim.close();
        }
    }

    private static String key(String listener) {
        return listener.toLowerCase(Locale.ROOT);
    }
}
