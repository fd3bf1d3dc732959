package io.tandem.server.kafka.group.share;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ConfigSource;

import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

import static io.tandem.server.kafka.ErrorCodes.INVALID_CONFIG;

/**
 * Group-level configs (ConfigResource type GROUP, KIP-848/KIP-932), Kafka 4.4's GroupConfig keys that Tandem applies:
 * the share group ones. Each is checked as Kafka checks it (its ConfigDef validator, then the broker's min/max keys,
 * in Kafka's words), stored by the {@link Store}, and applied: the session timeout, heartbeat interval, record lock
 * duration, delivery count limit and record lock count of the group, and where a new share-partition starts.
 * Kafka's other group keys (consumer.*, streams.*, the dead-letter queue, share.renew.acknowledge.enable, ...) are
 * refused by name rather than stored and ignored, and so is share.isolation.level=read_committed.
 */
public final class GroupConfigs {
    /** Where overrides live (ZooKeeper's {@code /config/groups/<group>}); reads may be slow, so they are cached. */
    public interface Store {
        Map<String, String> read(String groupId) throws Exception;

        void write(String groupId, Map<String, String> overrides) throws Exception;
    }

    /** A served key: its Kafka type, the broker key whose value is its default (null: Kafka's own default). */
    public record Key(String name, String type, String brokerKey, String kafkaDefault) {
    }

    /** One entry as DescribeConfigs shows it. */
    public record Entry(String name, String value, ConfigSource source, String type) {
    }

    public static final String SESSION_TIMEOUT = "share.session.timeout.ms";
    public static final String HEARTBEAT_INTERVAL = "share.heartbeat.interval.ms";
    public static final String RECORD_LOCK_DURATION = "share.record.lock.duration.ms";
    public static final String DELIVERY_COUNT_LIMIT = "share.delivery.count.limit";
    public static final String PARTITION_MAX_RECORD_LOCKS = "share.partition.max.record.locks";
    public static final String AUTO_OFFSET_RESET = "share.auto.offset.reset";
    public static final String ISOLATION_LEVEL = "share.isolation.level";

    /** The served keys, in Kafka's order. */
    public static final Map<String, Key> KEYS = new LinkedHashMap<>();
    /** Kafka 4.4's other group keys: known, not applied by Tandem, so refused. */
    static final Set<String> NOT_SERVED = Set.of("consumer.session.timeout.ms", "consumer.heartbeat.interval.ms",
            "consumer.assignment.interval.ms", "consumer.assignor.offload.enable", "share.renew.acknowledge.enable",
            "share.assignment.interval.ms", "share.assignor.offload.enable", "streams.session.timeout.ms",
            "streams.heartbeat.interval.ms", "streams.num.standby.replicas", "streams.initial.rebalance.delay.ms",
            "streams.assignment.interval.ms", "streams.assignor.offload.enable", "streams.task.offset.interval.ms",
            "streams.num.warmup.replicas", "streams.rack.aware.assignment.tags", "streams.acceptable.recovery.lag",
            "streams.assignor.name", "errors.deadletterqueue.topic.name", "errors.deadletterqueue.copy.record.enable");

    static {
        for (Key k : List.of(
                new Key(SESSION_TIMEOUT, "INT", "group.share.session.timeout.ms", "45000"),
                new Key(HEARTBEAT_INTERVAL, "INT", "group.share.heartbeat.interval.ms", "5000"),
                new Key(RECORD_LOCK_DURATION, "INT", "group.share.record.lock.duration.ms", "30000"),
                new Key(DELIVERY_COUNT_LIMIT, "INT", "group.share.delivery.count.limit", "5"),
                new Key(PARTITION_MAX_RECORD_LOCKS, "INT", "group.share.partition.max.record.locks", "2000"),
                new Key(AUTO_OFFSET_RESET, "STRING", null, "latest"),
                new Key(ISOLATION_LEVEL, "STRING", null, "read_uncommitted"))) {
            KEYS.put(k.name(), k);
        }
    }

    /** The broker's min/max keys of one group key and the ConfigDef minimum of the group key itself. */
    private record Bounds(int atLeast, int min, int max) {
    }

    private final TandemConfig brokerSettings;
    private final ShareGroupConfig broker;
    private final Map<String, Bounds> bounds = new LinkedHashMap<>();
    private final Store store;
    private final Map<String, Map<String, String>> cache = new ConcurrentHashMap<>();

    public GroupConfigs(TandemConfig brokerSettings, ShareGroupConfig broker, Store store) {
        this.brokerSettings = brokerSettings;
        this.broker = broker;
        this.store = store;
        bounds.put(SESSION_TIMEOUT, new Bounds(1, brokerSettings.getInt("group.share.min.session.timeout.ms", 45_000),
                brokerSettings.getInt("group.share.max.session.timeout.ms", 60_000)));
        bounds.put(HEARTBEAT_INTERVAL, new Bounds(1,
                brokerSettings.getInt("group.share.min.heartbeat.interval.ms", 5_000),
                brokerSettings.getInt("group.share.max.heartbeat.interval.ms", 15_000)));
        bounds.put(RECORD_LOCK_DURATION, new Bounds(1000,
                brokerSettings.getInt("group.share.min.record.lock.duration.ms", 15_000),
                brokerSettings.getInt("group.share.max.record.lock.duration.ms", 60_000)));
        bounds.put(DELIVERY_COUNT_LIMIT, new Bounds(2,
                brokerSettings.getInt("group.share.min.delivery.count.limit", 2),
                brokerSettings.getInt("group.share.max.delivery.count.limit", 10)));
        bounds.put(PARTITION_MAX_RECORD_LOCKS, new Bounds(100,
                brokerSettings.getInt("group.share.min.partition.max.record.locks", 100),
                brokerSettings.getInt("group.share.max.partition.max.record.locks", 4000)));
    }

    /** The group's overrides (a copy; empty when none). */
    public Map<String, String> overrides(String groupId) {
        Map<String, String> cached = cache.get(groupId);
        if (cached == null) {
            try {
                cached = Map.copyOf(store.read(groupId));
            } catch (Exception e) {
                throw new ApiException(io.tandem.server.kafka.ErrorCodes.UNKNOWN_SERVER_ERROR,
                        "cannot read the configs of group " + groupId + ": " + e.getMessage());
            }
            cache.put(groupId, cached);
        }
        return new LinkedHashMap<>(cached);
    }

    /** Validates the complete set of overrides and, unless {@code validateOnly}, stores it. */
    public void set(String groupId, Map<String, String> overrides, boolean validateOnly) throws Exception {
        validate(overrides);
        if (validateOnly) return;
        store.write(groupId, overrides);
        cache.put(groupId, Map.copyOf(overrides));
    }

    /** Kafka's GroupConfig.validate: names, then each value's type and validator, then the broker's bounds. */
    public void validate(Map<String, String> overrides) {
        for (String name : overrides.keySet()) {
            if (NOT_SERVED.contains(name)) {
                throw new ApiException(INVALID_CONFIG, "Group config " + name + " is not supported by Tandem.");
            }
            if (!KEYS.containsKey(name)) throw new ApiException(INVALID_CONFIG, "Unknown group config name: " + name);
        }
        for (Map.Entry<String, String> e : overrides.entrySet()) {
            String name = e.getKey();
            String value = e.getValue().trim();
            Bounds b = bounds.get(name);
            if (b != null) {
                int v;
                try {
                    v = Integer.parseInt(value);
                } catch (NumberFormatException ex) {
                    throw invalid(value, name, "Not a number of type INT");
                }
                if (v < b.atLeast()) throw invalid(value, name, "Value must be at least " + b.atLeast());
            } else if (name.equals(AUTO_OFFSET_RESET)) {
                if (autoOffsetResetDuration(value) == null && !value.equals("earliest") && !value.equals("latest")) {
                    throw invalid(value, name, "Invalid value `" + value + "` for configuration " + name
                            + ". The value must be either 'earliest', 'latest' or of the format"
                            + " 'by_duration:<PnDTnHnMn.nS>'.");
                }
            } else if (name.equals(ISOLATION_LEVEL)) {
                if (!value.equals("read_committed") && !value.equals("read_uncommitted")) {
                    throw invalid(value, name, "String must be one of: read_committed, read_uncommitted");
                }
                if (value.equals("read_committed")) {
                    // Share-partitions would have to stop at the last stable offset and skip aborted records.
                    throw new ApiException(INVALID_CONFIG, name + "=read_committed is not supported by Tandem.");
                }
            }
        }
        for (Map.Entry<String, Bounds> e : bounds.entrySet()) {
            String value = overrides.get(e.getKey());
            if (value == null) continue;
            int v = Integer.parseInt(value.trim());
            if (v < e.getValue().min() || v > e.getValue().max()) {
                throw new ApiException(INVALID_CONFIG, e.getKey() + " must be in the range " + e.getValue().min()
                        + " to " + e.getValue().max() + " inclusive.");
            }
        }
    }

    private static ApiException invalid(String value, String name, String why) {
        return new ApiException(INVALID_CONFIG, "Invalid value " + value + " for configuration " + name + ": " + why);
    }

    /** The duration of a {@code by_duration:<ISO-8601>} value, null when it is not one (or is negative). */
    public static Duration autoOffsetResetDuration(String value) {
        if (!value.startsWith("by_duration:")) return null;
        try {
            Duration d = Duration.parse(value.substring("by_duration:".length()));
            return d.isNegative() ? null : d;
        } catch (DateTimeParseException e) {
            return null;
        }
    }

    /** The settings the group runs with: its overrides over the broker's. */
    public ShareGroupConfig effective(String groupId) {
        Map<String, String> o = overrides(groupId);
        if (o.isEmpty()) return broker;
        return new ShareGroupConfig(intOr(o, SESSION_TIMEOUT, broker.sessionTimeoutMs()),
                intOr(o, HEARTBEAT_INTERVAL, broker.heartbeatIntervalMs()),
                intOr(o, RECORD_LOCK_DURATION, broker.recordLockDurationMs()),
                intOr(o, DELIVERY_COUNT_LIMIT, broker.deliveryCountLimit()),
                intOr(o, PARTITION_MAX_RECORD_LOCKS, broker.partitionMaxRecordLocks()), broker.maxSize(),
                broker.maxShareSessions());
    }

    private static int intOr(Map<String, String> overrides, String key, int fallback) {
        String v = overrides.get(key);
        return v == null ? fallback : Integer.parseInt(v.trim());
    }

    /** share.auto.offset.reset of the group: "latest", "earliest" or "by_duration:...". */
    public String autoOffsetReset(String groupId) {
        return overrides(groupId).getOrDefault(AUTO_OFFSET_RESET, "latest").trim();
    }

    /**
     * Every served key as DescribeConfigs shows it, as Kafka's createGroupConfigEntry: the group's override
     * (GROUP_CONFIG, the admin client's DYNAMIC_GROUP_CONFIG), else the broker key's value (STATIC_BROKER_CONFIG when the broker was started with
     * one, else DEFAULT_CONFIG), else the key's own default.
     */
    public List<Entry> describe(String groupId) {
        Map<String, String> o = overrides(groupId);
        List<Entry> entries = new ArrayList<>();
        for (Key k : KEYS.values()) {
            String override = o.get(k.name());
            if (override != null) {
                entries.add(new Entry(k.name(), override, ConfigSource.GROUP_CONFIG, k.type()));
            } else if (k.brokerKey() != null && brokerSettings.get(k.brokerKey()) != null) {
                entries.add(new Entry(k.name(), brokerSettings.get(k.brokerKey()),
                        ConfigSource.STATIC_BROKER_CONFIG, k.type()));
            } else {
                entries.add(new Entry(k.name(), k.kafkaDefault(), ConfigSource.DEFAULT_CONFIG, k.type()));
            }
        }
        return entries;
    }
}
