package io.tandem.server.kafka.group;

/**
 * The coordinator's limits, named and defaulted as Kafka's {@code group.*} and {@code offset.metadata.max.bytes}
 * broker settings.
 */
public record GroupConfig(int minSessionTimeoutMs, int maxSessionTimeoutMs, int initialRebalanceDelayMs,
                          int maxGroupSize, int offsetMetadataMaxBytes) {
    /** Kafka's defaults: 6 s .. 30 min sessions, 3 s initial delay, unlimited group size, 4 KiB metadata. */
    public static GroupConfig defaults() {
        return new GroupConfig(6_000, 1_800_000, 3_000, Integer.MAX_VALUE, 4096);
    }

    public GroupConfig withInitialRebalanceDelayMs(int ms) {
        return new GroupConfig(minSessionTimeoutMs, maxSessionTimeoutMs, ms, maxGroupSize, offsetMetadataMaxBytes);
    }

    public GroupConfig withMaxGroupSize(int size) {
        return new GroupConfig(minSessionTimeoutMs, maxSessionTimeoutMs, initialRebalanceDelayMs, size, offsetMetadataMaxBytes);
    }
}
