package io.tandem.server.kafka.group.consumer;

import io.tandem.server.TandemConfig;

import java.util.ArrayList;
import java.util.List;

/**
 * The consumer group (KIP-848) settings, named and defaulted as Kafka's {@code group.consumer.*} broker keys.
 *
 * @param sessionTimeoutMs    group.consumer.session.timeout.ms: a member without a heartbeat this long is removed
 * @param heartbeatIntervalMs group.consumer.heartbeat.interval.ms: what members are told to heartbeat at
 * @param maxSize             group.consumer.max.size: members a group accepts
 * @param assignors           group.consumer.assignors: the server assignors served, the first the default
 * @param migrationPolicy     group.consumer.migration.policy: online upgrade/downgrade of live groups
 */
public record ConsumerGroupConfig(int sessionTimeoutMs, int heartbeatIntervalMs, int maxSize, List<String> assignors,
                                  MigrationPolicy migrationPolicy) {
    public static final List<String> KNOWN_ASSIGNORS = List.of(UniformAssignor.NAME, RangeAssignor.NAME);
    public static final String MIGRATION_POLICY = "group.consumer.migration.policy";
    /** Kafka 4.x's default. */
    public static final MigrationPolicy MIGRATION_POLICY_DEFAULT = MigrationPolicy.BIDIRECTIONAL;

    /** The settings under Kafka's default migration policy (bidirectional). */
    public ConsumerGroupConfig(int sessionTimeoutMs, int heartbeatIntervalMs, int maxSize, List<String> assignors) {
        this(sessionTimeoutMs, heartbeatIntervalMs, maxSize, assignors, MIGRATION_POLICY_DEFAULT);
    }

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
        if (migrationPolicy == null) throw new IllegalArgumentException(MIGRATION_POLICY + " must be set");
    }

    /** The same settings under another migration policy. */
    public ConsumerGroupConfig withMigrationPolicy(MigrationPolicy policy) {
        return new ConsumerGroupConfig(sessionTimeoutMs, heartbeatIntervalMs, maxSize, assignors, policy);
    }

    /** The same settings with another group.consumer.max.size. */
    public ConsumerGroupConfig withMaxSize(int size) {
        return new ConsumerGroupConfig(sessionTimeoutMs, heartbeatIntervalMs, size, assignors, migrationPolicy);
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
        MigrationPolicy policy = MigrationPolicy.parse(MIGRATION_POLICY,
                config.get(MIGRATION_POLICY, MIGRATION_POLICY_DEFAULT.toString()));
        List<String> assignors = new ArrayList<>();
        for (String name : config.get("group.consumer.assignors", "uniform,range").split(",")) {
            if (!name.isBlank()) assignors.add(name.trim());
        }
        return new ConsumerGroupConfig(session, heartbeat, config.getInt("group.consumer.max.size",
                Integer.MAX_VALUE), assignors, policy);
    }

    private static void within(String key, int value, String minKey, int min, String maxKey, int max) {
        if (value < min) throw new IllegalArgumentException(key + " must be greater than or equal to " + minKey);
        if (value > max) throw new IllegalArgumentException(key + " must be less than or equal to " + maxKey);
    }

    /** Kafka's defaults: 45 s sessions, 5 s heartbeats, unlimited size, uniform then range, bidirectional migration. */
    public static ConsumerGroupConfig defaults() {
        return new ConsumerGroupConfig(45_000, 5_000, Integer.MAX_VALUE, KNOWN_ASSIGNORS);
    }
}
