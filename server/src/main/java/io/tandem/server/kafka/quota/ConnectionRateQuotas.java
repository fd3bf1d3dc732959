package io.tandem.server.kafka.quota;

import io.tandem.server.kafka.network.ConnectionRateLimiter;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Kafka's connection creation rate quotas (KIP-612, ConnectionQuotas): the broker-wide {@code
 * max.connection.creation.rate}, each listener's ({@code listener.name.<listener>.max.connection.creation.rate}), and
 * {@code connection_creation_rate} per IP address, with a default for every address ({@code /config/ips/<default>});
 * a quota of Integer.MAX_VALUE (Kafka's default) is none. As Kafka's sensors, the broker's and each listener's rate
 * are measured whether or not they have a quota (the node's metrics show them), and each listener keeps the average
 * of the throttle times it handed out for the broker's or its own rate and for IP rates (Kafka's
 * {@code connection-accept-throttle-time} and {@code ip-connection-accept-throttle-time}). Each is a
 * {@link SampledRate} over the client quota window ({@code quota.window.num} x {@code quota.window.size.seconds}),
 * and a throttle never exceeds one window (Kafka's QuotaUtils.boundedThrottleTime). The per-IP rates are bounded as
 * the client rates are; an address's rate that is not used for an hour starts afresh, as Kafka expires its sensor.
 */
public final class ConnectionRateQuotas implements ConnectionRateLimiter {
    /** Kafka's max.connection.creation.rate. */
    public static final String BROKER_RATE_KEY = "max.connection.creation.rate";
    /** Kafka's prefix of a listener's own settings; the listener's name follows in lower case, then a dot. */
    public static final String LISTENER_PREFIX = "listener.name.";
    /** Kafka's IP_CONNECTION_RATE_DEFAULT and max.connection.creation.rate default: no quota. */
    public static final int UNLIMITED = Integer.MAX_VALUE;

    private final int samples;
    private final long windowMs;
    private final LongSupplier clock;
    private final int staticBrokerRate;
    /** max.connection.creation.rate in force (dynamic broker configuration may change it). Guarded by this. */
    private int brokerRate;
    private final SampledRate brokerConnections;
    /** Guarded by this. */
    private Map<InetAddress, Integer> ipRates = Map.of();
    private int defaultIpRate = UNLIMITED;
    private final LinkedHashMap<InetAddress, IpSensor> ipSensors = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<InetAddress, IpSensor> eldest) {
            return size() > ClientQuotaManager.RATES_MAX;
        }
    };
    /** By lower-case listener name; a listener is added at its first connection (there are few). Guarded by this. */
    private final Map<String, ListenerSensor> listeners = new LinkedHashMap<>();
    /** listener.name.<l>.max.connection.creation.rate from the broker's settings, by lower-case listener name. */
    private final Map<String, Integer> staticListenerRates;
    /** The listeners' rates in force (dynamic broker configuration may change them). Guarded by this. */
    private Map<String, Integer> listenerRates;
    private final AtomicLong throttledIpConnections = new AtomicLong();
    private final AtomicLong delayedAccepts = new AtomicLong();

    private static final class IpSensor {
        final SampledRate rate;
        long lastRecordMs;

        IpSensor(SampledRate rate) {
            this.rate = rate;
        }
    }

    /** A listener's rate and quota (Kafka's ListenerConnectionQuota) and its two throttle-time averages. */
    private static final class ListenerSensor {
        /** Guarded by the owning ConnectionRateQuotas. */
        int rate;
        final SampledRate connections;
        final SampledAvg throttle;
        final SampledAvg ipThrottle;

        ListenerSensor(int rate, int samples, long windowMs) {
            this.rate = rate;
            this.connections = new SampledRate(samples, windowMs);
            this.throttle = new SampledAvg(samples, windowMs);
            this.ipThrottle = new SampledAvg(samples, windowMs);
        }
    }

    /**
     * What the node's metrics show of one listener (Kafka's {@code socket-server-metrics} with a {@code listener}
     * tag): its accept rate per second and its average throttle times in ms (NaN: none in the window).
     */
    public record ListenerFigures(String listener, double acceptRate, double throttleTimeMs,
                                  double ipThrottleTimeMs) {
    }

    /** An address with an IP quota and its accept rate (Kafka's {@code connection-accept-rate} tagged {@code ip}). */
    public record IpFigures(InetAddress address, double acceptRate) {
    }

    public ConnectionRateQuotas(QuotaWindow window, int brokerRate, LongSupplier clock) {
        this(window, brokerRate, Map.of(), clock);
    }

    /** {@code listenerRates}: each listener's own max.connection.creation.rate, by listener name. */
    public ConnectionRateQuotas(QuotaWindow window, int brokerRate, Map<String, Integer> listenerRates,
                                LongSupplier clock) {
        if (brokerRate < 0) throw new IllegalArgumentException(BROKER_RATE_KEY + " must be at least 0: " + brokerRate);
        Map<String, Integer> byName = new LinkedHashMap<>();
        listenerRates.forEach((name, rate) -> {
            if (rate < 0) {
                throw new IllegalArgumentException(LISTENER_PREFIX + name.toLowerCase(Locale.ROOT) + "."
                        + BROKER_RATE_KEY + " must be at least 0: " + rate);
            }
            byName.put(name.toLowerCase(Locale.ROOT), rate);
        });
        this.staticListenerRates = Map.copyOf(byName);
        this.listenerRates = staticListenerRates;
        this.samples = window.samples();
        this.windowMs = window.sizeMs();
        this.clock = clock;
        this.staticBrokerRate = brokerRate;
        this.brokerRate = brokerRate;
        this.brokerConnections = new SampledRate(samples, windowMs);
    }

    /** max.connection.creation.rate from the broker's settings (Kafka's default: unlimited). */
    public static int brokerRate(Map<String, String> settings) {
        String value = settings.get(BROKER_RATE_KEY);
        return value == null ? UNLIMITED : Integer.parseInt(value.trim());
    }

    /**
     * Each listener's max.connection.creation.rate from the broker's settings ({@code
     * listener.name.<listener>.max.connection.creation.rate}), by listener name as the key spells it.
     */
    public static Map<String, Integer> listenerRates(Map<String, String> settings) {
        Map<String, Integer> rates = new LinkedHashMap<>();
        String suffix = "." + BROKER_RATE_KEY;
        settings.forEach((key, value) -> {
            if (value == null || !key.startsWith(LISTENER_PREFIX) || !key.endsWith(suffix)) return;
            String listener = key.substring(LISTENER_PREFIX.length(), key.length() - suffix.length());
            if (listener.isEmpty() || listener.contains(".")) return;
            rates.put(listener, Integer.parseInt(value.trim()));
        });
        return rates;
    }

    /** Replaces every IP quota: the addresses' own, and the default's ({@link #UNLIMITED} for none). */
    public synchronized void update(Map<InetAddress, Integer> perAddress, int defaultRate) {
        ipRates = Map.copyOf(perAddress);
        defaultIpRate = defaultRate;
    }

    /** max.connection.creation.rate as the broker's settings give it. */
    public int staticBrokerRate() {
        return staticBrokerRate;
    }

    /**
     * A new max.connection.creation.rate (a dynamic broker config, Kafka's updateBrokerMaxConnectionRate): the
     * connections already measured keep counting against the new bound; an acceptor already waiting waits its time.
     */
    public synchronized void updateBrokerRate(int rate) {
        if (rate < 0) throw new IllegalArgumentException(BROKER_RATE_KEY + " must be at least 0: " + rate);
        brokerRate = rate;
        // A listener without its own rate has the broker's (Kafka reads a listener's settings over the broker's).
        listeners.forEach((name, sensor) -> {
            if (!listenerRates.containsKey(name)) sensor.rate = rate;
        });
    }

    /**
     * The listeners' own rates from dynamic broker configuration, by listener name (Kafka's
     * ListenerConnectionQuota.reconfigure): each over its static setting; a listener absent from {@code dynamic}
     * goes back to its static rate. As with the broker's rate, an acceptor already waiting waits its time.
     */
    public synchronized void updateListenerRates(Map<String, Integer> dynamic) {
        Map<String, Integer> rates = new LinkedHashMap<>(staticListenerRates);
        dynamic.forEach((name, rate) -> rates.put(name.toLowerCase(Locale.ROOT), rate));
        listenerRates = Map.copyOf(rates);
        listeners.forEach((name, sensor) -> sensor.rate = listenerRates.getOrDefault(name, brokerRate));
    }

    /** Kafka's connectionRateForIp. */
    synchronized int rateFor(InetAddress address) {
        return ipRates.getOrDefault(address, defaultIpRate);
    }

    /**
     * Kafka's recordConnectionAndGetThrottleTimeMs: the connection counts against the broker's rate (unless its
     * listener is protected) and its listener's; the wait is the longer of the two throttles.
     */
    @Override
    public long acceptThrottleMs(String listener, boolean protectedListener) {
        long now = clock.getAsLong();
        long throttle;
        synchronized (this) {
            long brokerThrottle = protectedListener ? 0
                    : bounded(brokerConnections.recordAndThrottleMs(1, brokerRate, now));
            ListenerSensor sensor = listener(listener);
            throttle = Math.max(brokerThrottle, bounded(sensor.connections.recordAndThrottleMs(1, sensor.rate, now)));
            if (throttle > 0) sensor.throttle.record(throttle, now);
        }
        if (throttle > 0) delayedAccepts.incrementAndGet();
        return throttle;
    }

    /** Kafka's recordIpConnectionMaybeThrottle, then its updateListenerMetrics for a refused connection. */
    @Override
    public long ipThrottleMs(InetAddress address, String listener, boolean protectedListener) {
        long now = clock.getAsLong();
        synchronized (this) {
            int rate = rateFor(address);
            if (rate == UNLIMITED) return 0;
            IpSensor sensor = ipSensors.get(address);
            if (sensor == null || now - sensor.lastRecordMs > ClientQuotaManager.RATE_INACTIVE_MS_MAX) {
                sensor = new IpSensor(new SampledRate(samples, windowMs));
                ipSensors.put(address, sensor);
            }
            sensor.lastRecordMs = now;
            long throttle = bounded(sensor.rate.recordAndThrottleMs(1, rate, now));
            if (throttle <= 0) return 0;
            // The connection is refused: it must not count against its address, its listener nor the broker.
            sensor.rate.record(-1, now);
            if (!protectedListener) brokerConnections.record(-1, now);
            ListenerSensor own = listener(listener);
            own.connections.record(-1, now);
            own.ipThrottle.record(throttle, now);
            throttledIpConnections.incrementAndGet();
            return throttle;
        }
    }

    /** Guarded by this. */
    private ListenerSensor listener(String name) {
        String key = name.toLowerCase(Locale.ROOT);
        // Kafka's ListenerConnectionQuota takes the listener's settings over the broker's (valuesWithPrefixOverride):
        // without its own rate, a listener's is the broker's, which thus bounds the protected listener too.
        return listeners.computeIfAbsent(key, k -> new ListenerSensor(listenerRates.getOrDefault(k, brokerRate),
                samples, windowMs));
    }

    /** Kafka's {@code broker-connection-accept-rate}: connections per second over every unprotected listener. */
    public synchronized double brokerAcceptRate() {
        return brokerConnections.measure(clock.getAsLong());
    }

    /** Every listener that has accepted a connection, with its figures. */
    public synchronized List<ListenerFigures> listenerFigures() {
        long now = clock.getAsLong();
        List<ListenerFigures> figures = new ArrayList<>();
        listeners.forEach((name, sensor) -> figures.add(new ListenerFigures(name.toUpperCase(Locale.ROOT),
                sensor.connections.measure(now), sensor.throttle.measure(now), sensor.ipThrottle.measure(now))));
        return figures;
    }

    /**
     * The addresses measured for an IP quota within the last hour (those Kafka still has sensors for), at most
     * {@code max}, most recently used last.
     */
    public synchronized List<IpFigures> ipFigures(int max) {
        long now = clock.getAsLong();
        List<IpFigures> figures = new ArrayList<>();
        ipSensors.forEach((address, sensor) -> {
            if (now - sensor.lastRecordMs <= ClientQuotaManager.RATE_INACTIVE_MS_MAX) {
                figures.add(new IpFigures(address, sensor.rate.measure(now)));
            }
        });
        return figures.size() <= max ? figures : figures.subList(figures.size() - max, figures.size());
    }

    private long bounded(long throttleMs) {
        return Math.min(throttleMs, windowMs);
    }

    /** Addresses whose rate is kept (bounded by ClientQuotaManager.RATES_MAX). */
    synchronized int ipSensors() {
        return ipSensors.size();
    }

    /** Connections refused by their IP quota so far. */
    public long throttledIpConnections() {
        return throttledIpConnections.get();
    }

    /** Times the acceptors had to wait for max.connection.creation.rate so far. */
    public long delayedAccepts() {
        return delayedAccepts.get();
    }
}
