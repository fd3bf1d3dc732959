package io.tandem.server.kafka.quota;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;

/**
 * The controller mutation quota (KIP-599, Kafka's ControllerMutationQuotaManager): {@code controller_mutation_rate}
 * permits per second per user / client id, a permit being one partition created or deleted. The entity a request is
 * measured against is found as for the other client quotas (the most specific of the eight with a quota); each has a
 * {@link TokenBucket} over {@code controller.quota.window.num} windows of {@code controller.quota.window.size.seconds}
 * (Kafka's 11 of 1 s), so a client may create a burst of 11 s worth of partitions at once and then waits for the bucket
 * to refill. Quotas come from {@link #update}, so a change applies to the next request.
 */
public final class ControllerMutationQuotaManager {
    /** Kafka's ControllerQuotaWindowSizeSecondsProp and NumControllerQuotaSamplesProp. */
    public static final String SAMPLES_KEY = "controller.quota.window.num";
    public static final String SIZE_SECONDS_KEY = "controller.quota.window.size.seconds";

    private final int samples;
    private final long windowMs;
    private final LongSupplier clock;
    private volatile Map<QuotaEntity, Double> quotas = Map.of();
    /** Buckets kept at most, least recently used first out, for the reason of ClientQuotaManager.RATES_MAX. */
    private final LinkedHashMap<ClientQuotaManager.Tags, Bucket> buckets = new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<ClientQuotaManager.Tags, Bucket> eldest) {
            return size() > ClientQuotaManager.RATES_MAX;
        }
    };
    private final AtomicLong throttledTopics = new AtomicLong();
    private final ThrottledChannels delayQueue = new ThrottledChannels();

    private static final class Bucket {
        final TokenBucket tokens;
        /** Kafka's mutation-rate (a Rate of the permits recorded) and throttle-time (an Avg) of the entity. */
        final SampledRate rate;
        final SampledAvg throttle;
        long lastRecordMs;

        Bucket(TokenBucket tokens, int samples, long windowMs) {
            this.tokens = tokens;
            this.rate = new SampledRate(samples, windowMs);
            this.throttle = new SampledAvg(samples, windowMs);
        }
    }

    /**
     * What the node's metrics show of one entity, as Kafka's group {@code ControllerMutation} with {@code user} and
     * {@code client-id} tags: {@code mutation-rate} (permits per second), {@code tokens} left in its bucket (NaN for
     * a client under no quota) and {@code throttle-time}, the average of its throttled answers (NaN: none).
     */
    public record EntityFigures(ClientQuotaManager.Tags tags, double mutationRate, double tokens,
                                double throttleTimeMs) {
    }

    public ControllerMutationQuotaManager(QuotaWindow window, LongSupplier clock) {
        this.samples = window.samples();
        this.windowMs = window.sizeMs();
        this.clock = clock;
    }

    /** The window from the two controller.quota.window keys (Kafka's defaults 11 and 1 s). */
    public static QuotaWindow window(Map<String, String> settings) {
        String samples = settings.get(SAMPLES_KEY);
        String size = settings.get(SIZE_SECONDS_KEY);
        return new QuotaWindow(samples == null ? QuotaWindow.DEFAULT.samples() : Integer.parseInt(samples.trim()),
                size == null ? QuotaWindow.DEFAULT.sizeMs() : Integer.parseInt(size.trim()) * 1000L);
    }

    /** Replaces every controller_mutation_rate: entity to permits per second. */
    public void update(Map<QuotaEntity, Double> quotas) {
        this.quotas = Map.copyOf(quotas);
    }

    /**
     * The quota of one request (Kafka's newQuotaFor): strict from {@code strictSinceVersion} on, permissive below;
     * unbounded while no controller_mutation_rate exists at all.
     */
    public ControllerMutationQuota newQuotaFor(String user, String clientId, short apiVersion,
                                               short strictSinceVersion) {
        Map<QuotaEntity, Double> q = quotas;
        if (q.isEmpty()) return ControllerMutationQuota.UNBOUNDED;
        ClientQuotaManager.Tags tags = ClientQuotaManager.metricTags(q, user == null ? "" : user,
                clientId == null ? "" : clientId);
        return new ControllerMutationQuota.Bounded(this, tags, apiVersion >= strictSinceVersion, clock);
    }

    /**
     * Records {@code permits} for the tags and answers the throttle time in ms (0: within the quota). Strict: an
     * exhausted bucket takes nothing and answers the time until it is back at zero; one that is not exhausted takes
     * the permits whatever they leave (Sensor.checkQuotas, then record). Permissive: the permits are taken first and
     * the bucket checked after (Sensor.record with its quota checked).
     */
    long record(ClientQuotaManager.Tags tags, double permits, boolean strict, long now) {
        Double bound = ClientQuotaManager.quotaLimit(quotas, tags);
        synchronized (buckets) {
            Bucket bucket = buckets.get(tags);
            if (bucket == null || now - bucket.lastRecordMs > ClientQuotaManager.RATE_INACTIVE_MS_MAX) {
                bucket = new Bucket(new TokenBucket(samples, windowMs), samples, windowMs);
                buckets.put(tags, bucket);
            }
            bucket.lastRecordMs = now;
            // An entity without a bound (a client under none of the quotas) is measured but never exhausted.
            if (bound == null) {
                bucket.rate.record(permits, now);
                return 0;
            }
            if (strict) {
                double left = bucket.tokens.tokens(bound, now);
                if (left < 0) return throttled(left, bound);
                bucket.tokens.record(permits, bound, now);
                bucket.rate.record(permits, now);
                return 0;
            }
            bucket.tokens.record(permits, bound, now);
            bucket.rate.record(permits, now);
            double left = bucket.tokens.tokens(bound, now);
            return left < 0 ? throttled(left, bound) : 0;
        }
    }

    /** Kafka's ControllerMutationQuotaManager.throttleTimeMs: the time to refill the debt to zero. */
    private long throttled(double tokens, double bound) {
        throttledTopics.incrementAndGet();
        return Math.round(-tokens / bound * 1000);
    }

    /** A request of the tags' entity was answered throttled for {@code throttleMs} (Kafka's throttle()). */
    void recordThrottle(ClientQuotaManager.Tags tags, int throttleMs, long now) {
        if (throttleMs <= 0) return;
        delayQueue.add(throttleMs);
        synchronized (buckets) {
            Bucket bucket = buckets.get(tags);
            if (bucket != null) bucket.throttle.record(throttleMs, now);
        }
    }

    /**
     * The figures of at most {@code max} entities measured within the last hour (those Kafka still has sensors for),
     * most recently used last.
     */
    public java.util.List<EntityFigures> figures(int max) {
        long now = clock.getAsLong();
        Map<QuotaEntity, Double> q = quotas;
        java.util.List<EntityFigures> figures = new java.util.ArrayList<>();
        synchronized (buckets) {
            buckets.forEach((tags, bucket) -> {
                if (now - bucket.lastRecordMs > ClientQuotaManager.RATE_INACTIVE_MS_MAX) return;
                Double bound = ClientQuotaManager.quotaLimit(q, tags);
                figures.add(new EntityFigures(tags, bucket.rate.measure(now),
                        bound == null ? Double.NaN : bucket.tokens.tokens(bound, now), bucket.throttle.measure(now)));
            });
        }
        return figures.size() <= max ? figures : figures.subList(figures.size() - max, figures.size());
    }

    /** Buckets kept (bounded by ClientQuotaManager.RATES_MAX). */
    int buckets() {
        synchronized (buckets) {
            return buckets.size();
        }
    }

    /** Mutations found over their quota so far, for the node's metrics. */
    /** Kafka's queue-size of the ControllerMutation quota: connections it throttles whose throttle is not over. */
    public int delayQueueSize() {
        return delayQueue.size();
    }

    public long throttledMutations() {
        return throttledTopics.get();
    }
}
