package io.tandem.server.kafka.group.share;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.group.OffsetsTopicStore;

/**
 * The share group (KIP-932) settings, named and defaulted as Kafka 4.4's {@code group.share.*} broker keys, checked
 * against their min/max keys at start-up as Kafka checks them.
 *
 * @param sessionTimeoutMs        group.share.session.timeout.ms: a member without a heartbeat this long is removed
 * @param heartbeatIntervalMs     group.share.heartbeat.interval.ms: what members are told to heartbeat at
 * @param recordLockDurationMs    group.share.record.lock.duration.ms: how long an acquired record stays locked
 * @param deliveryCountLimit      group.share.delivery.count.limit: deliveries before a record is archived
 * @param partitionMaxRecordLocks group.share.partition.max.record.locks: in-flight records per share-partition
 * @param maxSize                 group.share.max.size: members a share group accepts
 * @param maxShareSessions        group.share.max.share.sessions: share sessions the broker keeps
 * @param initializeRetryIntervalMs group.share.initialize.retry.interval.ms, or offsets.commit.timeout.ms when above
 *                                it (Kafka 4.4's GroupCoordinatorConfig): how long a share-partition may stay in a
 *                                group's initializing set before a heartbeat initializes it again
 */
public record ShareGroupConfig(int sessionTimeoutMs, int heartbeatIntervalMs, int recordLockDurationMs,
                               int deliveryCountLimit, int partitionMaxRecordLocks, int maxSize,
                               int maxShareSessions, int initializeRetryIntervalMs) {
    /** Kafka 4.4's group.share.initialize.retry.interval.ms default. */
    public static final int INITIALIZE_RETRY_INTERVAL_MS_DEFAULT = 30_000;

    public ShareGroupConfig {
        if (heartbeatIntervalMs >= sessionTimeoutMs) {
            throw new IllegalArgumentException("group.share.heartbeat.interval.ms must be less than "
                    + "group.share.session.timeout.ms");
        }
        if (maxSize < 1) throw new IllegalArgumentException("group.share.max.size must be at least 1");
        if (maxShareSessions < 1) throw new IllegalArgumentException("group.share.max.share.sessions must be at least 1");
        if (initializeRetryIntervalMs < 1) {
            throw new IllegalArgumentException("group.share.initialize.retry.interval.ms must be at least 1");
        }
    }

    /** The settings with Kafka's default initialization retry interval. */
    public ShareGroupConfig(int sessionTimeoutMs, int heartbeatIntervalMs, int recordLockDurationMs,
                            int deliveryCountLimit, int partitionMaxRecordLocks, int maxSize, int maxShareSessions) {
        this(sessionTimeoutMs, heartbeatIntervalMs, recordLockDurationMs, deliveryCountLimit, partitionMaxRecordLocks,
                maxSize, maxShareSessions, INITIALIZE_RETRY_INTERVAL_MS_DEFAULT);
    }

    public static ShareGroupConfig from(TandemConfig config) {
        int session = config.getInt("group.share.session.timeout.ms", 45_000);
        within("group.share.session.timeout.ms", session,
                "group.share.min.session.timeout.ms", config.getInt("group.share.min.session.timeout.ms", 45_000),
                "group.share.max.session.timeout.ms", config.getInt("group.share.max.session.timeout.ms", 60_000));
        int heartbeat = config.getInt("group.share.heartbeat.interval.ms", 5_000);
        within("group.share.heartbeat.interval.ms", heartbeat,
                "group.share.min.heartbeat.interval.ms", config.getInt("group.share.min.heartbeat.interval.ms", 5_000),
                "group.share.max.heartbeat.interval.ms", config.getInt("group.share.max.heartbeat.interval.ms", 15_000));
        int lock = config.getInt("group.share.record.lock.duration.ms", 30_000);
        within("group.share.record.lock.duration.ms", lock,
                "group.share.min.record.lock.duration.ms", config.getInt("group.share.min.record.lock.duration.ms", 15_000),
                "group.share.max.record.lock.duration.ms", config.getInt("group.share.max.record.lock.duration.ms", 60_000));
        int deliveries = config.getInt("group.share.delivery.count.limit", 5);
        within("group.share.delivery.count.limit", deliveries,
                "group.share.min.delivery.count.limit", config.getInt("group.share.min.delivery.count.limit", 2),
                "group.share.max.delivery.count.limit", config.getInt("group.share.max.delivery.count.limit", 10));
        int locks = config.getInt("group.share.partition.max.record.locks", 2000);
        within("group.share.partition.max.record.locks", locks,
                "group.share.min.partition.max.record.locks",
                config.getInt("group.share.min.partition.max.record.locks", 100),
                "group.share.max.partition.max.record.locks",
                config.getInt("group.share.max.partition.max.record.locks", 4000));
        // An internal key in Kafka 4.4 (defineInternal, INT, at least 1); below offsets.commit.timeout.ms (Tandem's
        // is Kafka's default, 5 s) that is used instead, as GroupCoordinatorConfig takes the larger of the two.
        int retry = config.getInt("group.share.initialize.retry.interval.ms", INITIALIZE_RETRY_INTERVAL_MS_DEFAULT);
        if (retry < 1) {
            throw new IllegalArgumentException("Invalid value " + retry
                    + " for configuration group.share.initialize.retry.interval.ms: Value must be at least 1");
        }
        return new ShareGroupConfig(session, heartbeat, lock, deliveries, locks,
                config.getInt("group.share.max.size", 200), config.getInt("group.share.max.share.sessions", 2000),
                (int) Math.max(retry, OffsetsTopicStore.COMMIT_TIMEOUT_MS));
    }

    private static void within(String key, int value, String minKey, int min, String maxKey, int max) {
        if (value < min) throw new IllegalArgumentException(key + " must be greater than or equal to " + minKey);
        if (value > max) throw new IllegalArgumentException(key + " must be less than or equal to " + maxKey);
    }

    /** Kafka's defaults. */
    public static ShareGroupConfig defaults() {
        return new ShareGroupConfig(45_000, 5_000, 30_000, 5, 2000, 200, 2000);
    }
}
