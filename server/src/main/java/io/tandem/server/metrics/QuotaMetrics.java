package io.tandem.server.metrics;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.tandem.server.kafka.quota.ClientQuotaManager;
import io.tandem.server.kafka.quota.ClientQuotas;
import io.tandem.server.kafka.quota.QuotaType;
import java.util.ArrayList;
import java.util.List;

/**
 * Kafka's per-entity client quota metrics: for each quota type the broker measures (Kafka's metric groups
 * {@code Produce}, {@code Fetch} and {@code Request}), the measured rate and the average throttle time of every user
 * and client id entity with a recent sensor, tagged {@code user} and {@code client-id} as Kafka tags them (an empty
 * value for the part the entity's quota does not count). The names are those a JMX exporter's default rule gives
 * Kafka's beans ({@code kafka.server:type=Produce,user=..,client-id=..} attribute {@code byte-rate} becomes
 * {@code kafka_server_produce_byte_rate}), under Tandem's prefix. As in Kafka, an entity appears only once a quota
 * of that type exists and it has sent a request since.
 */
final class QuotaMetrics {
    /** Series per quota type and figure at most: each entity is a labelled series, and a scrape must stay small. */
    static final int ENTITY_SERIES_MAX = 10_000;

    private record Group(ClientQuotaManager manager, MultiGauge rate, MultiGauge throttle) {
    }

    private final List<Group> groups = new ArrayList<>();

    QuotaMetrics(ClientQuotas quotas, MeterRegistry registry) {
        groups.add(group(quotas.manager(QuotaType.PRODUCE), registry, "produce", "byte.rate",
                "Bytes per second of produce requests of the entity, as the quota measures them"));
        groups.add(group(quotas.manager(QuotaType.FETCH), registry, "fetch", "byte.rate",
                "Bytes per second of fetch answers of the entity, as the quota measures them"));
        groups.add(group(quotas.manager(QuotaType.REQUEST), registry, "request", "request.time",
                "Handler time of the entity's requests, in percent of one thread"));
    }

    private static Group group(ClientQuotaManager manager, MeterRegistry registry, String type, String rateName,
                               String rateDescription) {
        String prefix = "tandem.kafka.server." + type + ".";
        return new Group(manager,
                MultiGauge.builder(prefix + rateName).description(rateDescription).register(registry),
                MultiGauge.builder(prefix + "throttle.time")
                        .description("Average throttle time in ms of the entity's throttled " + type
                                + " requests in the quota window (NaN: none)").register(registry));
    }

    /** Before each scrape: one row per entity and figure. */
    void refresh() {
        for (Group group : groups) {
            List<MultiGauge.Row<?>> rates = new ArrayList<>();
            List<MultiGauge.Row<?>> throttles = new ArrayList<>();
            for (ClientQuotaManager.EntityFigures entity : group.manager().figures(ENTITY_SERIES_MAX)) {
                Tags tags = Tags.of("user", entity.tags().user(), "client-id", entity.tags().clientId());
                rates.add(MultiGauge.Row.of(tags, entity.rate()));
                throttles.add(MultiGauge.Row.of(tags, entity.throttleTimeMs()));
            }
            group.rate().register(rates, true);
            group.throttle().register(throttles, true);
        }
    }
}
