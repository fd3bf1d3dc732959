package io.tandem.server.kafka.quota;

import io.tandem.server.kafka.network.ChannelThrottle;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * One quota type's enforcement, as Kafka 3.9's ClientQuotaManager with its DefaultQuotaCallback: which quota entity
 * a request is measured against ({@link #metricTags}, the most specific of the eight ZooKeeper entities that has a
 * quota), that entity's limit ({@link #quotaLimit}), and one {@link SampledRate} per entity, shared by every
 * connection that falls under it. Quotas come from {@link #update}, so a change applies to the next request of every
 * live connection. Nothing is recorded while this type has no quota at all, as Kafka's.
 */
public final class ClientQuotaManager {
    /**
     * Rates kept at most, each an entity some client used: a client choosing a new client id per connection must
     * not grow this map without bound. The least recently used rate goes first (it then starts afresh if it comes
     * back, as a rate Kafka expires after an hour of inactivity does).
     */
    static final int RATES_MAX = 100_000;
    /** Kafka's InactiveSensorExpirationTimeSeconds: a rate unused this long is dropped. */
    static final long RATE_INACTIVE_MS_MAX = 3_600_000;

    /** Where a request is measured: Kafka's user and client-id metric tags, "" for the part that does not count. */
    public record Tags(String user, String clientId) {
    }

    /**
     * What the node's metrics show of one entity, as Kafka's per-entity quota metrics in the quota type's group
     * ({@code Produce}, {@code Fetch}, {@code Request}) with {@code user} and {@code client-id} tags: the measured
     * rate ({@code byte-rate}, or {@code request-time} in percent of a thread for Request) and {@code throttle-time},
     * the average of the throttle times handed out in the window (NaN when none was, as Kafka's Avg).
     */
    public record EntityFigures(Tags tags, double rate, double throttleTimeMs) {
    }

    private static final class Sensor {
        final SampledRate rate;
        /** Kafka's throttle-time sensor, an Avg over the same windows. */
        final SampledAvg throttle;
        long lastRecordMs;

        Sensor(int samples, long windowMs) {
            this.rate = new SampledRate(samples, windowMs);
            this.throttle = new SampledAvg(samples, windowMs);
        }
    }

    private final QuotaType type;
    private final int samples;
    private final long windowMs;
    private final LongSupplier clock;
    private volatile Map<QuotaEntity, Double> quotas = Map.of();
    private final LinkedHashMap<Tags, Sensor> sensors = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<Tags, Sensor> eldest) {
            return size() > RATES_MAX;
        }
    };
    private final AtomicLong throttledRequests = new AtomicLong();
    private final AtomicLong throttleTimeTotalMs = new AtomicLong();
    private final ThrottledChannels delayQueue = new ThrottledChannels();

    public ClientQuotaManager(QuotaType type, QuotaWindow window, LongSupplier clock) {
        this.type = type;
        this.samples = window.samples();
        this.windowMs = window.sizeMs();
        this.clock = clock;
    }

    public QuotaType type() {
        return type;
    }

    /** Replaces every quota of this type: entity to bound. */
    public void update(Map<QuotaEntity, Double> quotas) {
        this.quotas = Map.copyOf(quotas);
    }

    public boolean quotasEnabled() {
        return !quotas.isEmpty();
    }

    /**
     * Kafka's quotaMetricTags: the entity the request counts against, in Kafka's order of precedence:
     * user+client, user+default client, user, default user+client, default user+default client, default user,
     * client, default client.
     */
    Tags metricTags(String user, String clientId) {
        return metricTags(quotas, user, clientId);
    }

    /** {@link #metricTags(String, String)} over the given quotas (shared with the controller mutation quota). */
    static Tags metricTags(Map<QuotaEntity, Double> q, String user, String clientId) {
        if (q.containsKey(new QuotaEntity(user, clientId))) return new Tags(user, clientId);
        if (q.containsKey(new QuotaEntity(user, QuotaEntity.DEFAULT))) return new Tags(user, clientId);
        if (q.containsKey(new QuotaEntity(user, null))) return new Tags(user, "");
        if (q.containsKey(new QuotaEntity(QuotaEntity.DEFAULT, clientId))) return new Tags(user, clientId);
        if (q.containsKey(new QuotaEntity(QuotaEntity.DEFAULT, QuotaEntity.DEFAULT))) return new Tags(user, clientId);
        if (q.containsKey(new QuotaEntity(QuotaEntity.DEFAULT, null))) return new Tags(user, "");
        return new Tags("", clientId);
    }

    /** Kafka's quotaLimit for the tags: the bound, or null when they have none (not throttled). */
    Double quotaLimit(Tags tags) {
        return quotaLimit(quotas, tags);
    }

    /** {@link #quotaLimit(Tags)} over the given quotas. */
    static Double quotaLimit(Map<QuotaEntity, Double> q, Tags tags) {
        Double quota = null;
        if (!tags.user().isEmpty() && !tags.clientId().isEmpty()) {
            quota = q.get(new QuotaEntity(tags.user(), tags.clientId()));
            if (quota == null) quota = q.get(new QuotaEntity(tags.user(), QuotaEntity.DEFAULT));
            if (quota == null) quota = q.get(new QuotaEntity(QuotaEntity.DEFAULT, tags.clientId()));
            if (quota == null) quota = q.get(new QuotaEntity(QuotaEntity.DEFAULT, QuotaEntity.DEFAULT));
        } else if (!tags.user().isEmpty()) {
            quota = q.get(new QuotaEntity(tags.user(), null));
            if (quota == null) quota = q.get(new QuotaEntity(QuotaEntity.DEFAULT, null));
        } else if (!tags.clientId().isEmpty()) {
            quota = q.get(new QuotaEntity(null, tags.clientId()));
            if (quota == null) quota = q.get(new QuotaEntity(null, QuotaEntity.DEFAULT));
        }
        return quota;
    }

    /**
     * Records {@code value} for the client and answers how long it is to be throttled (0: not at all), as Kafka's
     * maybeRecordAndGetThrottleTimeMs. {@code user} is the principal's name ({@code ANONYMOUS} on PLAINTEXT).
     */
    public int recordAndGetThrottleTimeMs(String user, String clientId, double value) {
        if (!quotasEnabled()) return 0;
        Tags tags = metricTags(user, clientId == null ? "" : clientId);
        Double bound = quotaLimit(tags);
        long now = clock.getAsLong();
        long throttleMs;
        synchronized (sensors) {
            Sensor sensor = sensor(tags, now);
            throttleMs = bound == null ? record(sensor, value, now) : sensor.rate.recordAndThrottleMs(value, bound, now);
        }
        int throttle = (int) Math.min(throttleMs, Integer.MAX_VALUE);
        if (type == QuotaType.REQUEST) throttle = (int) Math.min(throttle, windowMs);
        if (throttle > 0) {
            throttledRequests.incrementAndGet();
            throttleTimeTotalMs.addAndGet(throttle);
        }
        return throttle;
    }

    /**
     * The quota that throttles the client's answer (when its throttle is the longest of the request's): Kafka's
     * throttle(), which records the throttle time in the entity's throttle-time and puts the channel in this
     * quota's delay queue. Only a throttled answer is recorded.
     */
    public ChannelThrottle.Owner owner(String user, String clientId) {
        return throttleMs -> {
            if (throttleMs <= 0) return;
            Tags tags = metricTags(user, clientId == null ? "" : clientId);
            long now = clock.getAsLong();
            synchronized (sensors) {
                sensor(tags, now).throttle.record(throttleMs, now);
            }
            delayQueue.add(throttleMs);
        };
    }

    /** Kafka's queue-size of this quota type: connections throttled by it whose throttle is not over. */
    public int delayQueueSize() {
        return delayQueue.size();
    }

    private static long record(Sensor sensor, double value, long now) {
        sensor.rate.record(value, now);
        return 0;
    }

    /** Takes back a recorded value (Kafka's unrecordQuotaSensor: a throttled fetch is answered without its data). */
    public void unrecord(String user, String clientId, double value) {
        if (!quotasEnabled()) return;
        Tags tags = metricTags(user, clientId == null ? "" : clientId);
        long now = clock.getAsLong();
        synchronized (sensors) {
            sensor(tags, now).rate.record(-value, now);
        }
    }

    /**
     * The most a client may take in one quota window (Kafka's getMaxValueInQuotaWindow: the bound times
     * {@code samples - 1} windows), or {@link Double#MAX_VALUE} when it has no quota.
     */
    public double maxValueInQuotaWindow(String user, String clientId) {
        if (!quotasEnabled()) return Double.MAX_VALUE;
        Double bound = quotaLimit(metricTags(user, clientId == null ? "" : clientId));
        return bound == null ? Double.MAX_VALUE : bound * (samples - 1) * (windowMs / 1000.0);
    }

    private Sensor sensor(Tags tags, long now) {
        Sensor sensor = sensors.get(tags);
        if (sensor == null || now - sensor.lastRecordMs > RATE_INACTIVE_MS_MAX) {
            sensor = new Sensor(samples, windowMs);
            sensors.put(tags, sensor);
        }
        sensor.lastRecordMs = now;
        return sensor;
    }

    /**
     * The figures of at most {@code max} entities measured within the last {@link #RATE_INACTIVE_MS_MAX} (those
     * Kafka still has sensors for), most recently used last.
     */
    public java.util.List<EntityFigures> figures(int max) {
        long now = clock.getAsLong();
        java.util.List<EntityFigures> figures = new java.util.ArrayList<>();
        synchronized (sensors) {
            for (Map.Entry<Tags, Sensor> entry : sensors.entrySet()) {
                Sensor sensor = entry.getValue();
                if (now - sensor.lastRecordMs > RATE_INACTIVE_MS_MAX) continue;
                figures.add(new EntityFigures(entry.getKey(), sensor.rate.measure(now), sensor.throttle.measure(now)));
            }
        }
        return figures.size() <= max ? figures : figures.subList(figures.size() - max, figures.size());
    }

    /** How many rates are kept (bounded by {@link #RATES_MAX}). */
    int rates() {
        synchronized (sensors) {
            return sensors.size();
        }
    }

    /** Requests throttled so far, for the node's metrics. */
    public long throttledRequests() {
        return throttledRequests.get();
    }

    /** The sum of every throttle time handed out, in ms. */
    public long throttleTimeTotalMs() {
        return throttleTimeTotalMs.get();
    }
}
