package io.tandem.server.metrics;

import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.MultiGauge;
import io.micrometer.core.instrument.Tags;
import io.tandem.server.kafka.quota.ClientQuotaManager;
import io.tandem.server.kafka.quota.ClientQuotas;
import io.tandem.server.kafka.quota.ConnectionRateQuotas;
import io.tandem.server.kafka.quota.ControllerMutationQuotaManager;
import io.tandem.server.kafka.quota.ExemptRequestTime;
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
 * of that type exists and it has sent a request since. The controller mutation quota (KIP-599) shows Kafka's group
 * {@code ControllerMutation}: {@code mutation-rate}, {@code tokens} left in the entity's bucket and
 * {@code throttle-time}. Each type also shows Kafka's {@code queue-size} ({@code kafka.server:type=Produce} etc.,
 * no tags): the connections it holds throttled now.
 *
 * <p>The connection creation rates (KIP-612) as Kafka's ConnectionQuotas shows them in its group
 * {@code socket-server-metrics}: {@code broker-connection-accept-rate}; per listener {@code connection-accept-rate},
 * {@code connection-accept-throttle-time} (waits for the broker's or the listener's rate) and
 * {@code ip-connection-accept-throttle-time} (connections refused by their IP quota), averages over the quota window
 * and NaN when there was none; and {@code connection-accept-rate} of each address with an IP quota. Kafka tags the
 * latter {@code ip} where the listener's carry {@code listener}: here both are one series family with both tags, the
 * other one empty, as a Prometheus name keeps one set of labels.
 */
final class QuotaMetrics {
    /** Series per quota type and figure at most: each entity is a labelled series, and a scrape must stay small. */
    static final int ENTITY_SERIES_MAX = 10_000;

    private record Group(ClientQuotaManager manager, MultiGauge rate, MultiGauge throttle) {
    }

    private static final String SOCKET_SERVER = "tandem.kafka.server.socket.server.metrics.";
    /** Kafka's queue-size of each quota type, the size of its delay queue of throttled channels. */
    private static final String QUEUE_SIZE = "Connections throttled by this quota whose throttle is not over (Kafka's "
            + "delay queue size)";

    private final List<Group> groups = new ArrayList<>();
    private final ControllerMutationQuotaManager mutations;
    private final MultiGauge mutationRate;
    private final MultiGauge mutationTokens;
    private final MultiGauge mutationThrottle;
    private final ConnectionRateQuotas connections;
    private final MultiGauge acceptRate;
    private final MultiGauge acceptThrottle;
    private final MultiGauge ipAcceptThrottle;

    QuotaMetrics(ClientQuotas quotas, MeterRegistry registry) {
        mutations = quotas.controllerMutations();
        String mutation = "tandem.kafka.server.controllermutation.";
        mutationRate = MultiGauge.builder(mutation + "mutation.rate")
                .description("Partitions created or deleted per second by the entity, as its quota measures them")
                .register(registry);
        mutationTokens = MultiGauge.builder(mutation + "tokens")
                .description("Permits left in the entity's token bucket (negative: in debt)").register(registry);
        mutationThrottle = MultiGauge.builder(mutation + "throttle.time")
                .description("Average throttle time in ms of the entity's throttled CreateTopics, CreatePartitions "
                        + "and DeleteTopics answers in the quota window (NaN: none)").register(registry);
        Gauge.builder("tandem.kafka.server.request.exempt.request.time", quotas.exemptRequestTime(),
                        ExemptRequestTime::percent)
                .description("Handler time of requests exempt from the request quota (between brokers, replica "
                        + "fetches, acks=0 produce) in percent of one thread, measured while request quotas are in "
                        + "use (Kafka's exempt-request-time)").register(registry);
        connections = quotas.connectionRates();
        Gauge.builder(SOCKET_SERVER + "broker.connection.accept.rate", connections,
                        ConnectionRateQuotas::brokerAcceptRate)
                .description("New connections per second over the listeners that count against "
                        + "max.connection.creation.rate").register(registry);
        acceptRate = MultiGauge.builder(SOCKET_SERVER + "connection.accept.rate")
                .description("New connections per second of a listener, or of an address with an IP quota")
                .register(registry);
        acceptThrottle = MultiGauge.builder(SOCKET_SERVER + "connection.accept.throttle.time")
                .description("Average time in ms the listener's acceptor waited for max.connection.creation.rate "
                        + "(the broker's or the listener's) in the quota window (NaN: none)").register(registry);
        ipAcceptThrottle = MultiGauge.builder(SOCKET_SERVER + "ip.connection.accept.throttle.time")
                .description("Average throttle time in ms of the listener's connections refused by their IP's "
                        + "connection_creation_rate in the quota window (NaN: none)").register(registry);
        Gauge.builder(mutation + "queue.size", mutations, ControllerMutationQuotaManager::delayQueueSize)
                .description(QUEUE_SIZE).register(registry);
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
        Gauge.builder(prefix + "queue.size", manager, ClientQuotaManager::delayQueueSize).description(QUEUE_SIZE)
                .register(registry);
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
        refreshMutations();
        refreshConnections();
    }

    private void refreshMutations() {
        List<MultiGauge.Row<?>> rates = new ArrayList<>();
        List<MultiGauge.Row<?>> tokens = new ArrayList<>();
        List<MultiGauge.Row<?>> throttles = new ArrayList<>();
        for (ControllerMutationQuotaManager.EntityFigures entity : mutations.figures(ENTITY_SERIES_MAX)) {
            Tags tags = Tags.of("user", entity.tags().user(), "client-id", entity.tags().clientId());
            rates.add(MultiGauge.Row.of(tags, entity.mutationRate()));
            if (!Double.isNaN(entity.tokens())) tokens.add(MultiGauge.Row.of(tags, entity.tokens()));
            throttles.add(MultiGauge.Row.of(tags, entity.throttleTimeMs()));
        }
        mutationRate.register(rates, true);
        mutationTokens.register(tokens, true);
        mutationThrottle.register(throttles, true);
    }

    private void refreshConnections() {
        List<MultiGauge.Row<?>> rates = new ArrayList<>();
        List<MultiGauge.Row<?>> throttles = new ArrayList<>();
        List<MultiGauge.Row<?>> ipThrottles = new ArrayList<>();
        for (ConnectionRateQuotas.ListenerFigures listener : connections.listenerFigures()) {
            Tags tags = Tags.of("listener", listener.listener(), "ip", "");
            rates.add(MultiGauge.Row.of(tags, listener.acceptRate()));
            throttles.add(MultiGauge.Row.of(Tags.of("listener", listener.listener()), listener.throttleTimeMs()));
            ipThrottles.add(MultiGauge.Row.of(Tags.of("listener", listener.listener()), listener.ipThrottleTimeMs()));
        }
        for (ConnectionRateQuotas.IpFigures ip : connections.ipFigures(ENTITY_SERIES_MAX)) {
            rates.add(MultiGauge.Row.of(Tags.of("listener", "", "ip", ip.address().getHostAddress()), ip.acceptRate()));
        }
        acceptRate.register(rates, true);
        acceptThrottle.register(throttles, true);
        ipAcceptThrottle.register(ipThrottles, true);
    }
}
