package io.tandem.server.cli;

import io.tandem.kafka.client.ClassicGroupMember;
import io.tandem.kafka.client.RecordFetcher;
import java.time.Duration;
import java.util.Map;
import java.util.Set;

/**
 * The Kafka consumer properties {@code tandem consume} honours (from --consumer-property and --consumer.config), with
 * Kafka 4's defaults: the group and its membership, where to start without a committed offset, auto-commit, and
 * the fetch limits.
 */
record ConsumerSettings(String groupId, String groupInstanceId, String autoOffsetReset, boolean autoCommit,
                        long autoCommitIntervalMs, ClassicGroupMember.Settings membership, String isolationLevel,
                        int fetchMinBytes, int fetchMaxBytes, int partitionFetchBytes, Duration fetchMaxWait,
                        int maxPollRecords) {
    static final Set<String> KEYS = Set.of("group.id", "group.instance.id", "group.protocol", "auto.offset.reset",
            "enable.auto.commit", "auto.commit.interval.ms", "session.timeout.ms", "heartbeat.interval.ms",
            "max.poll.interval.ms", "isolation.level", "fetch.min.bytes", "fetch.max.bytes",
            "max.partition.fetch.bytes", "fetch.max.wait.ms", "max.poll.records", "partition.assignment.strategy");

    /** Kafka's default max.poll.records. */
    static final int MAX_POLL_RECORDS_DEFAULT = 500;

    /**
     * Reads the merged properties; {@code group} and {@code isolationFlag} are the --group and --isolation-level flags
     * (null when not given), {@code fromBeginning} --from-beginning.
     */
    static ConsumerSettings of(Map<String, String> properties, String group, String isolationFlag,
                               boolean fromBeginning) {
        String groupId = properties.get("group.id");
        if (group != null && groupId != null && !group.equals(groupId)) {
            // kafka-console-consumer's own refusal.
            throw new IllegalArgumentException("The group ids provided in different places (directly using"
                    + " '--group', via '--consumer-property', or via '--consumer.config') do not match. Detected group"
                    + " ids: '" + group + "', '" + groupId + "'");
        }
        groupId = group != null ? group : groupId;
        String protocol = properties.getOrDefault("group.protocol", "classic").trim();
        if (!protocol.equalsIgnoreCase("classic")) {
            throw new IllegalArgumentException("group.protocol=" + protocol + " is not offered: tandem consume joins"
                    + " with the classic protocol (Kafka 4's default)");
        }
        String strategy = properties.get("partition.assignment.strategy");
        if (strategy != null && !strategy.trim().equals("range")
                && !strategy.trim().equals("org.apache.kafka.clients.consumer.RangeAssignor")) {
            throw new IllegalArgumentException("partition.assignment.strategy=" + strategy + " is not offered: tandem"
                    + " consume assigns with Kafka's range assignor only");
        }
        String reset = properties.get("auto.offset.reset");
        if (reset != null && fromBeginning) {
            throw new IllegalArgumentException("Can't simultaneously specify --from-beginning and 'auto.offset.reset="
                    + reset + "', please remove one option");
        }
        reset = reset != null ? reset.trim() : fromBeginning ? "earliest" : "latest";
        if (!Set.of("earliest", "latest", "none").contains(reset)) {
            throw new IllegalArgumentException("auto.offset.reset must be earliest, latest or none, not '" + reset + "'");
        }
        String isolation = properties.get("isolation.level");
        if (isolation != null && isolationFlag != null && !isolation.trim().equals(isolationFlag)) {
            throw new IllegalArgumentException("--isolation-level " + isolationFlag + " and isolation.level="
                    + isolation + " disagree");
        }
        isolation = isolationFlag != null ? isolationFlag : isolation != null ? isolation.trim() : "read_uncommitted";
        ClassicGroupMember.Settings defaults = ClassicGroupMember.Settings.DEFAULTS;
        String instance = properties.get("group.instance.id");
        ClassicGroupMember.Settings membership = new ClassicGroupMember.Settings(
                positive(properties, "session.timeout.ms", defaults.sessionTimeoutMs()),
                positive(properties, "max.poll.interval.ms", defaults.rebalanceTimeoutMs()),
                positive(properties, "heartbeat.interval.ms", defaults.heartbeatIntervalMs()),
                instance == null || instance.isBlank() ? null : instance.trim());
        int waitMs = ClientProperties.intValue(properties, "fetch.max.wait.ms", -1);
        if (properties.containsKey("fetch.max.wait.ms") && waitMs < 0) {
            throw new IllegalArgumentException("fetch.max.wait.ms must not be negative");
        }
        return new ConsumerSettings(groupId, membership.groupInstanceId(), reset,
                ClientProperties.booleanValue(properties, "enable.auto.commit", true),
                positive(properties, "auto.commit.interval.ms", 5000), membership, isolation,
                ClientProperties.intValue(properties, "fetch.min.bytes", 1),
                positive(properties, "fetch.max.bytes", RecordFetcher.RESPONSE_BYTES_MAX),
                positive(properties, "max.partition.fetch.bytes", RecordFetcher.PARTITION_BYTES_MAX),
                waitMs < 0 ? null : Duration.ofMillis(waitMs),
                positive(properties, "max.poll.records", MAX_POLL_RECORDS_DEFAULT));
    }

    /** Applies the fetch limits to {@code fetcher}. */
    void apply(RecordFetcher fetcher) {
        fetcher.limits(fetchMinBytes, fetchMaxBytes, partitionFetchBytes, fetchMaxWait);
    }

    private static int positive(Map<String, String> properties, String key, int fallback) {
        int value = ClientProperties.intValue(properties, key, fallback);
        if (value <= 0) {
            throw new IllegalArgumentException(key + " must be positive, not " + value);
        }
        return value;
    }
}
