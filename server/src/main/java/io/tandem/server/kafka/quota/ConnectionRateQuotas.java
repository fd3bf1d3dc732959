package io.tandem.server.kafka.quota;

import io.tandem.server.kafka.network.ConnectionRateLimiter;

import java.net.InetAddress;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * Kafka's connection creation rate quotas (KIP-612, ConnectionQuotas): the broker-wide {@code
 * max.connection.creation.rate} and {@code connection_creation_rate} per IP address, with a default for every address
 * ({@code /config/ips/<default>}); a quota of Integer.MAX_VALUE (Kafka's default) is none. Each is a
 * {@link SampledRate} over the client quota window ({@code quota.window.num} x {@code quota.window.size.seconds}),
 * and a throttle never exceeds one window (Kafka's QuotaUtils.boundedThrottleTime). The per-IP rates are bounded as
 * the client rates are; an address's rate that is not used for an hour starts afresh, as Kafka expires its sensor.
 */
public final class ConnectionRateQuotas implements ConnectionRateLimiter {
    /** Kafka's max.connection.creation.rate. */
    public static final String BROKER_RATE_KEY = "max.connection.creation.rate";
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
    private final AtomicLong throttledIpConnections = new AtomicLong();
    private final AtomicLong delayedAccepts = new AtomicLong();

    private static final class IpSensor {
        final SampledRate rate;
        long lastRecordMs;

        IpSensor(SampledRate rate) {
            this.rate = rate;
        }
    }

    public ConnectionRateQuotas(QuotaWindow window, int brokerRate, LongSupplier clock) {
        if (brokerRate < 0) throw new IllegalArgumentException(BROKER_RATE_KEY + " must be at least 0: " + brokerRate);
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
    }

    /** Kafka's connectionRateForIp. */
    synchronized int rateFor(InetAddress address) {
        return ipRates.getOrDefault(address, defaultIpRate);
    }

    @Override
    public long acceptThrottleMs(boolean protectedListener) {
        if (protectedListener) return 0;
        long throttle;
        synchronized (this) {
            if (brokerRate == UNLIMITED) return 0;
            throttle = bounded(brokerConnections.recordAndThrottleMs(1, brokerRate, clock.getAsLong()));
        }
        if (throttle > 0) delayedAccepts.incrementAndGet();
        return throttle;
    }

    @Override
    public long ipThrottleMs(InetAddress address, boolean protectedListener) {
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
            // The connection is refused: it must not count against its address nor against the broker's rate.
            sensor.rate.record(-1, now);
            if (!protectedListener && brokerRate != UNLIMITED) brokerConnections.record(-1, now);
            throttledIpConnections.incrementAndGet();
            return throttle;
        }
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
