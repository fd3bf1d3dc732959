package io.tandem.server.kafka.metadata;

import io.tandem.kafka.wire.Features;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Whether a broker's supported features fit the cluster's finalized ones, as Kafka 3.9's
 * BrokerFeatures.incompatibleFeatures decides it: a finalized feature the broker does not list, or lists with a range
 * that leaves out the finalized level, is incompatible. Kafka acts on it twice, and so does Tandem: a broker reading
 * {@code /feature} at start-up refuses to start (FinalizedFeatureChangeListener.initOrThrow, before it registers; a
 * running broker that sees such a level appear exits, where Tandem's stops its broker, see FinalizedFeatures), and
 * the controller leaves a registered broker with incompatible features out of its live brokers
 * (KafkaController.partitionOnFeatureCompatibility) - an Apache broker with feature versioning off (an
 * inter.broker.protocol.version before 2.7) skips the first check and registers anyway.
 */
public final class FeatureCompatibility {
    private FeatureCompatibility() {
    }

    /**
     * The finalized features {@code supported} does not cover, each with Kafka's reason
     * ({@code {feature=X, reason='Unsupported feature'}}, {@code {feature=X, reason='3 is incompatible with 0-2'}});
     * empty when compatible.
     */
    public static Map<String, String> incompatible(Map<String, Features.Range> supported,
                                                   Map<String, Short> finalized) {
        Map<String, String> reasons = new LinkedHashMap<>();
        finalized.forEach((feature, level) -> {
            Features.Range range = supported.get(feature);
            if (range == null) {
                reasons.put(feature, "{feature=" + feature + ", reason='Unsupported feature'}");
            } else if (!range.contains(level)) {
                reasons.put(feature, "{feature=" + feature + ", reason='" + level + " is incompatible with " + range
                        + "'}");
            }
        });
        return reasons;
    }

    /** The levels {@code /feature} finalizes (none while it is missing or disabled). */
    public static Map<String, Short> finalized(ZnodeStore store) throws Exception {
        byte[] node = store.getData(KafkaZkLayout.FEATURE);
        return node == null ? Map.of() : FeatureZnode.decode(node).finalized();
    }

    /**
     * Of the registered brokers {@code brokerIds}, those whose registration lists features incompatible with what
     * {@code /feature} finalizes now; a broker whose registration is gone is not among them.
     */
    public static Set<Integer> incompatibleBrokers(ZnodeStore store, Collection<Integer> brokerIds) throws Exception {
        Set<Integer> incompatible = new TreeSet<>();
        if (brokerIds.isEmpty()) return incompatible;
        Map<String, Short> finalized = finalized(store);
        if (finalized.isEmpty()) return incompatible;
        for (int id : brokerIds) {
            byte[] registration = store.getData(KafkaZkLayout.brokerPath(id));
            if (registration != null
                    && !incompatible(KafkaZkLayout.decodeBrokerFeatures(registration), finalized).isEmpty()) {
                incompatible.add(id);
            }
        }
        return incompatible;
    }
}
