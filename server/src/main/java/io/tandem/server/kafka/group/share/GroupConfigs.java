package io.tandem.server.kafka.group.share;

import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ConfigSource;
import io.tandem.server.kafka.group.consumer.GroupTimeouts;

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
 * a consumer group's session timeout and heartbeat interval, and the share group ones. Each is checked as Kafka's
 * GroupConfig.validate checks it (its ConfigDef validator, then the broker's min/max keys, then session timeout above
 * heartbeat interval, in Kafka's words), stored by the {@link Store}, and applied: the session timeout and heartbeat
 * interval of a consumer group's members ({@link #consumerTimeouts}), and of a share group's, its record lock duration,
 * delivery count limit and record lock count, and where a new share-partition starts. Kafka's other group keys
 * (consumer.assignment.interval.ms, streams.*, the dead-letter queue, share.renew.acknowledge.enable, ...) are refused
 * by name rather than stored and ignored, and so is share.isolation.level=read_committed.
 */
public final class GroupConfigs {
    /**
     * Where overrides live (ZooKeeper's {@code /config/groups/<group>}): read in full when the broker starts, then one
     * group at a time when a change notification names it; never on a request's path.
     */
    public interface Store {
        Map<String, String> read(String groupId) throws Exception;

        /** Every group's overrides, by group id. */
        Map<String, Map<String, String>> readAll() throws Exception;

        /** Stores the group's overrides and tells every broker (a change notification). */
        void write(String groupId, Map<String, String> overrides) throws Exception;
    }

    /** A served key: its Kafka type, the broker key whose value is its default (null: Kafka's own default). */
    public record Key(String name, String type, String brokerKey, String kafkaDefault) {
    }

    /** One entry as DescribeConfigs shows it. */
    public record Entry(String name, String value, ConfigSource source, String type) {
    }

    public static final String CONSUMER_SESSION_TIMEOUT = "consumer.session.timeout.ms";
    public static final String CONSUMER_HEARTBEAT_INTERVAL = "consumer.heartbeat.interval.ms";
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
    static final Set<String> NOT_SERVED = Set.of("consumer.assignment.interval.ms", "consumer.assignor.offload.enable",
            "share.renew.acknowledge.enable", "share.assignment.interval.ms", "share.assignor.offload.enable",
            "streams.session.timeout.ms", "streams.heartbeat.interval.ms", "streams.num.standby.replicas",
            "streams.initial.rebalance.delay.ms", "streams.assignment.interval.ms", "streams.assignor.offload.enable",
            "streams.task.offset.interval.ms", "streams.num.warmup.replicas", "streams.rack.aware.assignment.tags",
            "streams.acceptable.recovery.lag", "streams.assignor.name", "errors.deadletterqueue.topic.name",
            "errors.deadletterqueue.copy.record.enable");

    static {
        for (Key k : List.of(
                new Key(CONSUMER_SESSION_TIMEOUT, "INT", "group.consumer.session.timeout.ms", "45000"),
                new Key(CONSUMER_HEARTBEAT_INTERVAL, "INT", "group.consumer.heartbeat.interval.ms", "5000"),
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
    /** In Kafka's order of checks (GroupConfig.validateValues): heartbeat interval before session timeout. */
    private final Map<String, Bounds> bounds = new LinkedHashMap<>();
    /** The broker's consumer group session timeout and heartbeat interval (group.consumer.*). */
    private final int consumerSessionTimeoutMs;
    private final int consumerHeartbeatIntervalMs;
    private final Store store;
    /**
     * Every group's overrides, by group id (groups without any are absent): loaded from the store when the broker
     * starts ({@link #load}) and kept current by the store's change notifications ({@link #reload}), as Kafka's
     * brokers keep every group config in memory (KRaft's GroupConfigManager) and read every entity's config at
     * start-up (ZooKeeper mode's ZkConfigManager). So the coordinators, which ask under their locks, never wait for
     * the store; and the map grows only with the groups an admin gives configs to, not with every group id a client
     * names.
     */
    private final Map<String, Map<String, String>> configs = new ConcurrentHashMap<>();

    public GroupConfigs(TandemConfig brokerSettings, ShareGroupConfig broker, Store store) {
        this.brokerSettings = brokerSettings;
        this.broker = broker;
        this.store = store;
        // ConsumerGroupConfig.from checked these at start-up, with the same defaults.
        consumerSessionTimeoutMs = brokerSettings.getInt("group.consumer.session.timeout.ms", 45_000);
        consumerHeartbeatIntervalMs = brokerSettings.getInt("group.consumer.heartbeat.interval.ms", 5_000);
        bounds.put(CONSUMER_HEARTBEAT_INTERVAL, new Bounds(1,
                brokerSettings.getInt("group.consumer.min.heartbeat.interval.ms", 5_000),
                brokerSettings.getInt("group.consumer.max.heartbeat.interval.ms", 15_000)));
        bounds.put(CONSUMER_SESSION_TIMEOUT, new Bounds(1,
                brokerSettings.getInt("group.consumer.min.session.timeout.ms", 45_000),
                brokerSettings.getInt("group.consumer.max.session.timeout.ms", 60_000)));
        bounds.put(HEARTBEAT_INTERVAL, new Bounds(1,
                brokerSettings.getInt("group.share.min.heartbeat.interval.ms", 5_000),
                brokerSettings.getInt("group.share.max.heartbeat.interval.ms", 15_000)));
        bounds.put(SESSION_TIMEOUT, new Bounds(1, brokerSettings.getInt("group.share.min.session.timeout.ms", 45_000),
                brokerSettings.getInt("group.share.max.session.timeout.ms", 60_000)));
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
        return new LinkedHashMap<>(cached(groupId));
    }

    /** The group's overrides (immutable): read at every group heartbeat, so neither copied nor read from the store. */
    private Map<String, String> cached(String groupId) {
        return configs.getOrDefault(groupId, Map.of());
    }

    /** Reads every group's overrides from the store (at start-up, before any group request, and without any lock). */
    public synchronized void load() throws Exception {
        Map<String, Map<String, String>> all = store.readAll();
        configs.clear();
        all.forEach(this::put);
    }

    /**
     * A change notification named the group (its configs were changed, maybe through another broker): its overrides
     * are read again and in force from the next request. Synchronized with {@link #set}, so a change written here
     * and one read back from another broker land in the store's order.
     */
    public synchronized void reload(String groupId) throws Exception {
        put(groupId, store.read(groupId));
    }

    private void put(String groupId, Map<String, String> overrides) {
        if (overrides.isEmpty()) {
            configs.remove(groupId);
        } else {
            configs.put(groupId, Map.copyOf(overrides));
        }
    }

    /** Validates the complete set of overrides and, unless {@code validateOnly}, stores it. */
    public synchronized void set(String groupId, Map<String, String> overrides, boolean validateOnly)
            throws Exception {
        validate(overrides);
        if (validateOnly) return;
        store.write(groupId, overrides);
        put(groupId, overrides);
    }

    /**
     * Kafka's GroupConfig.validate: names, then each value's type and validator (in the keys' order, as its ConfigDef
     * parses them), then the broker's bounds, then each session timeout above its heartbeat interval.
     */
    public void validate(Map<String, String> overrides) {
        for (String name : overrides.keySet()) {
            if (NOT_SERVED.contains(name)) {
                throw new ApiException(INVALID_CONFIG, "Group config " + name + " is not supported by Tandem.");
            }
            if (!KEYS.containsKey(name)) throw new ApiException(INVALID_CONFIG, "Unknown group config name: " + name);
        }
        for (String name : KEYS.keySet()) {
            if (!overrides.containsKey(name)) continue;
            String value = overrides.get(name).trim();
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
        sessionAboveHeartbeat(overrides, CONSUMER_SESSION_TIMEOUT, consumerSessionTimeoutMs,
                CONSUMER_HEARTBEAT_INTERVAL, consumerHeartbeatIntervalMs);
        sessionAboveHeartbeat(overrides, SESSION_TIMEOUT, broker.sessionTimeoutMs(), HEARTBEAT_INTERVAL,
                broker.heartbeatIntervalMs());
    }

    /** Kafka's validateSessionExceedsHeartbeat: when either is set, the broker's value stands in for the other. */
    private static void sessionAboveHeartbeat(Map<String, String> overrides, String sessionKey, int brokerSession,
                                              String heartbeatKey, int brokerHeartbeat) {
        if (!overrides.containsKey(sessionKey) && !overrides.containsKey(heartbeatKey)) return;
        if (intOr(overrides, sessionKey, brokerSession) <= intOr(overrides, heartbeatKey, brokerHeartbeat)) {
            throw new ApiException(INVALID_CONFIG, sessionKey + " must be greater than " + heartbeatKey);
        }
    }

    /**
     * The session timeout and heartbeat interval of a consumer group's members: its overrides, brought within the
     * broker's current min/max keys as Kafka's GroupConfig.evaluate does (they may have changed since the overrides
     * were set), else the broker's {@code group.consumer.*} values.
     */
    public GroupTimeouts consumerTimeouts(String groupId) {
        Map<String, String> o = cached(groupId);
        if (o.isEmpty()) return new GroupTimeouts(consumerSessionTimeoutMs, consumerHeartbeatIntervalMs);
        return new GroupTimeouts(clamped(o, CONSUMER_SESSION_TIMEOUT, consumerSessionTimeoutMs),
                clamped(o, CONSUMER_HEARTBEAT_INTERVAL, consumerHeartbeatIntervalMs));
    }

    private int clamped(Map<String, String> overrides, String key, int fallback) {
        if (!overrides.containsKey(key)) return fallback;
        Bounds b = bounds.get(key);
        return Math.max(b.min(), Math.min(b.max(), intOr(overrides, key, fallback)));
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
        // Asked for every group with members at every share group request: the cached map, not a copy.
        Map<String, String> o = cached(groupId);
        if (o.isEmpty()) return broker;
        return new ShareGroupConfig(intOr(o, SESSION_TIMEOUT, broker.sessionTimeoutMs()),
                intOr(o, HEARTBEAT_INTERVAL, broker.heartbeatIntervalMs()),
                intOr(o, RECORD_LOCK_DURATION, broker.recordLockDurationMs()),
                intOr(o, DELIVERY_COUNT_LIMIT, broker.deliveryCountLimit()),
                intOr(o, PARTITION_MAX_RECORD_LOCKS, broker.partitionMaxRecordLocks()), broker.maxSize(),
                broker.maxShareSessions(), broker.initializeRetryIntervalMs());
    }

    private static int intOr(Map<String, String> overrides, String key, int fallback) {
        String v = overrides.get(key);
        return v == null ? fallback : Integer.parseInt(v.trim());
    }

    /** share.auto.offset.reset of the group: "latest", "earliest" or "by_duration:...". */
    public String autoOffsetReset(String groupId) {
        return cached(groupId).getOrDefault(AUTO_OFFSET_RESET, "latest").trim();
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
