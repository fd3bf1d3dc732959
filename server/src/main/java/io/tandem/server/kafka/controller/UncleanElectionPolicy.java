package io.tandem.server.kafka.controller;

import io.tandem.server.kafka.metadata.ClusterMetadata;

import java.util.List;
import java.util.Map;
import java.util.function.BooleanSupplier;

/**
 * Whether a topic's partitions may get an out-of-sync leader when no in-sync replica is alive: the topic's
 * {@code unclean.leader.election.enable} override as ZooKeeper holds it ({@code /config/topics/T}), else the broker
 * default of this controller's broker (its static setting and dynamic layers), as Kafka 3.9's ZooKeeper-mode
 * controller reads {@code zkClient.getLogConfigs(topics, config.originals)} at each election that needs it. Read on
 * the controller's event thread, only for partitions without a live in-sync replica.
 */
final class UncleanElectionPolicy {
    static final String KEY = "unclean.leader.election.enable";
    private static final System.Logger LOG = System.getLogger(UncleanElectionPolicy.class.getName());
    private final ClusterMetadata metadata;
    private volatile BooleanSupplier brokerDefault = () -> false;

    UncleanElectionPolicy(ClusterMetadata metadata) {
        this.metadata = metadata;
    }

    void brokerDefault(BooleanSupplier brokerDefault) {
        this.brokerDefault = brokerDefault;
    }

    boolean brokerDefault() {
        return brokerDefault.getAsBoolean();
    }

    /** Whether {@code topic} allows an unclean election; a config that cannot be read allows none (Kafka's failed read). */
    boolean allowed(String topic) {
        try {
            Map<String, String> overrides = metadata.storedTopicConfigs(List.of(topic)).getOrDefault(topic, Map.of());
            String value = overrides.get(KEY);
            return value == null ? brokerDefault.getAsBoolean() : Boolean.parseBoolean(value.trim());
        } catch (Exception e) {
            LOG.log(System.Logger.Level.WARNING, "Cannot read the config of topic " + topic + "; no unclean election", e);
            return false;
        }
    }
}
