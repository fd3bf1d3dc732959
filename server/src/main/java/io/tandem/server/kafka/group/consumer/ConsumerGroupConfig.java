package io.tandem.server.kafka.group.consumer;

import io.tandem.server.TandemConfig;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * The consumer group (KIP-848) settings, named and defaulted as Kafka's {@code group.consumer.*} broker keys.
 *
 * @param sessionTimeoutMs    group.consumer.session.timeout.ms: a member without a heartbeat this long is removed
 * @param heartbeatIntervalMs group.consumer.heartbeat.interval.ms: what members are told to heartbeat at
 * @param maxSize             group.consumer.max.size: members a group accepts
 * @param assignors           group.consumer.assignors: the server assignors served, the first the default
 */
public record ConsumerGroupConfig(int sessionTimeoutMs, int heartbeatIntervalMs, int maxSize, List<String> assignors) {
    public static final List<String> KNOWN_ASSIGNORS = List.of(UniformAssignor.NAME, RangeAssignor.NAME);
    public static final String MIGRATION_POLICY = "group.consumer.migration.policy";
    /** The only policy Tandem implements (Kafka 4.x defaults to bidirectional). */
    public static final String MIGRATION_POLICY_DISABLED = "disabled";
    private static final List<String> MIGRATION_POLICIES = List.of(MIGRATION_POLICY_DISABLED, "downgrade", "upgrade",
            "bidirectional");

    public ConsumerGroupConfig {
        if (heartbeatIntervalMs >= sessionTimeoutMs) {
            // Kafka refuses the same relation at start-up.
            throw new IllegalArgumentException("group.consumer.heartbeat.interval.ms must be less than "
                    + "group.consumer.session.timeout.ms");
        }
        if (maxSize < 1) throw new IllegalArgumentException("group.consumer.max.size must be at least 1");
        if (assignors.isEmpty()) throw new IllegalArgumentException("group.consumer.assignors must not be empty");
        for (String name : assignors) {
            if (!KNOWN_ASSIGNORS.contains(name)) {
                throw new IllegalArgumentException("group.consumer.assignors: " + name
                        + " is not supported; Tandem serves " + String.join(", ", KNOWN_ASSIGNORS));
            }
        }
        assignors = List.copyOf(assignors);
    }

    /**
     * Reads the {@code group.consumer.*} keys with Kafka's defaults and checks them as Kafka does at start-up: the
     * session timeout and heartbeat interval within their min/max keys, the interval below the timeout.
     */
    public static ConsumerGroupConfig from(TandemConfig config) {
        int session = config.getInt("group.consumer.session.timeout.ms", 45_000);
        int heartbeat = config.getInt("group.consumer.heartbeat.interval.ms", 5_000);
        within("group.consumer.session.timeout.ms", session,
                "group.consumer.min.session.timeout.ms", config.getInt("group.consumer.min.session.timeout.ms", 45_000),
                "group.consumer.max.session.timeout.ms", config.getInt("group.consumer.max.session.timeout.ms", 60_000));
        within("group.consumer.heartbeat.interval.ms", heartbeat, "group.consumer.min.heartbeat.interval.ms",
                config.getInt("group.consumer.min.heartbeat.interval.ms", 5_000),
                "group.consumer.max.heartbeat.interval.ms",
                config.getInt("group.consumer.max.heartbeat.interval.ms", 15_000));
        checkMigrationPolicy(config.get(MIGRATION_POLICY, MIGRATION_POLICY_DISABLED));
        List<String> assignors = new ArrayList<>();
        for (String name : config.get("group.consumer.assignors", "uniform,range").split(",")) {
            if (!name.isBlank()) assignors.add(name.trim());
        }
        return new ConsumerGroupConfig(session, heartbeat, config.getInt("group.consumer.max.size",
                Integer.MAX_VALUE), assignors);
    }

    /**
     * {@code group.consumer.migration.policy}: Kafka's values (case-insensitive, else Kafka's start-up error), of which
     * Tandem implements {@code disabled} only: a live classic group is not upgraded when a consumer-protocol member
     * joins, nor a consumer group downgraded when its last consumer-protocol member leaves (empty groups still change
     * type, as under every policy). The other values are refused at start-up rather than ignored, since ignoring them
     * would change what a rolling upgrade of consumers does.
     */
    static void checkMigrationPolicy(String value) {
        String policy = value.trim().toLowerCase(Locale.ROOT);
        if (!MIGRATION_POLICIES.contains(policy)) {
            throw new IllegalArgumentException("Invalid value " + value + " for configuration " + MIGRATION_POLICY
                    + ": String must be one of (case insensitive): DISABLED, DOWNGRADE, UPGRADE, BIDIRECTIONAL");
        }
        if (!policy.equals(MIGRATION_POLICY_DISABLED)) {
            throw new IllegalArgumentException(MIGRATION_POLICY + "=" + value + " is not supported: Tandem does not "
                    + "migrate live groups between the classic and the consumer protocol; only "
                    + MIGRATION_POLICY_DISABLED + " is");
        }
    }

    private static void within(String key, int value, String minKey, int min, String maxKey, int max) {
        if (value < min) throw new IllegalArgumentException(key + " must be greater than or equal to " + minKey);
        if (value > max) throw new IllegalArgumentException(key + " must be less than or equal to " + maxKey);
    }

    /** Kafka's defaults: 45 s sessions, 5 s heartbeats, unlimited size, uniform then range. */
    public static ConsumerGroupConfig defaults() {
        return new ConsumerGroupConfig(45_000, 5_000, Integer.MAX_VALUE, KNOWN_ASSIGNORS);
    }
}
