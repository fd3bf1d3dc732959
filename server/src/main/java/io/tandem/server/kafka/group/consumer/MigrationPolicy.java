package io.tandem.server.kafka.group.consumer;

import java.util.Locale;

/**
 * {@code group.consumer.migration.policy}, Kafka's ConsumerGroupMigrationPolicy: whether a live classic group is
 * converted to a consumer group when its first consumer-protocol member joins (upgrade), and a consumer group back
 * to a classic group when its last consumer-protocol member leaves and only classic members remain (downgrade).
 * Empty groups change type under every policy.
 */
public enum MigrationPolicy {
    DISABLED(false, false), UPGRADE(true, false), DOWNGRADE(false, true), BIDIRECTIONAL(true, true);

    private final boolean upgrade;
    private final boolean downgrade;

    MigrationPolicy(boolean upgrade, boolean downgrade) {
        this.upgrade = upgrade;
        this.downgrade = downgrade;
    }

    public boolean isUpgradeEnabled() {
        return upgrade;
    }

    public boolean isDowngradeEnabled() {
        return downgrade;
    }

    /** Kafka's parsing: case-insensitive, anything else refused with Kafka's start-up message. */
    public static MigrationPolicy parse(String key, String value) {
        try {
            return valueOf(value.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Invalid value " + value + " for configuration " + key
                    + ": String must be one of (case insensitive): DISABLED, DOWNGRADE, UPGRADE, BIDIRECTIONAL");
        }
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
