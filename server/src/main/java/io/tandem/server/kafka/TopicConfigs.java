package io.tandem.server.kafka;

import io.tandem.server.TandemConfig;
import io.tandem.storage.log.LogConfig;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Kafka's topic-level configuration keys with their broker-level defaults ({@code log.*} and friends), so that
 * DescribeConfigs reports what Kafka reports and the effective value of a topic key is override, else the broker's
 * dynamic setting (per broker, then cluster default; see {@link DynamicBrokerConfig}), else its static setting, else
 * Kafka's default.
 * The keys are Kafka 3.9's (ZooKeeper mode), which Tandem's clients know: 4.0 removed message.format.version,
 * message.downconversion.enable and message.timestamp.difference.max.ms, but a 3.9 client or tool may still set
 * them, so they are accepted, described and applied as Kafka 3.9 did.
 */
public final class TopicConfigs {
    /** A topic key, the broker key that sets its default (or null), and Kafka's default value. */
    public record Key(String name, String brokerKey, String defaultValue, String type) {
    }

    public static final Map<String, Key> KEYS = new LinkedHashMap<>();

    private static void key(String name, String brokerKey, String defaultValue, String type) {
        KEYS.put(name, new Key(name, brokerKey, defaultValue, type));
    }

    static {
        key("cleanup.policy", "log.cleanup.policy", "delete", "LIST");
        key("compression.type", "compression.type", "producer", "STRING");
        key("compression.gzip.level", "compression.gzip.level", "-1", "INT");
        key("compression.lz4.level", "compression.lz4.level", "9", "INT");
        key("compression.zstd.level", "compression.zstd.level", "3", "INT");
        key("delete.retention.ms", "log.cleaner.delete.retention.ms", "86400000", "LONG");
        key("file.delete.delay.ms", "log.segment.delete.delay.ms", "60000", "LONG");
        key("flush.messages", "log.flush.interval.messages", "9223372036854775807", "LONG");
        key("flush.ms", "log.flush.interval.ms", "9223372036854775807", "LONG");
        key("follower.replication.throttled.replicas", null, "", "LIST");
        key("index.interval.bytes", "log.index.interval.bytes", "4096", "INT");
        key("leader.replication.throttled.replicas", null, "", "LIST");
        key("local.retention.bytes", "log.local.retention.bytes", "-2", "LONG");
        key("local.retention.ms", "log.local.retention.ms", "-2", "LONG");
        key("max.compaction.lag.ms", "log.cleaner.max.compaction.lag.ms", "9223372036854775807", "LONG");
        key("max.message.bytes", "message.max.bytes", "1048588", "INT");
        key("message.downconversion.enable", "log.message.downconversion.enable", "true", "BOOLEAN");
        key("message.format.version", "log.message.format.version", "3.0-IV1", "STRING");
        key("message.timestamp.after.max.ms", "log.message.timestamp.after.max.ms", "3600000", "LONG");
        key("message.timestamp.before.max.ms", "log.message.timestamp.before.max.ms", "9223372036854775807", "LONG");
        key("message.timestamp.difference.max.ms", "log.message.timestamp.difference.max.ms",
                "9223372036854775807", "LONG");
        key("message.timestamp.type", "log.message.timestamp.type", "CreateTime", "STRING");
        key("min.cleanable.dirty.ratio", "log.cleaner.min.cleanable.ratio", "0.5", "DOUBLE");
        key("min.compaction.lag.ms", "log.cleaner.min.compaction.lag.ms", "0", "LONG");
        key("min.insync.replicas", "min.insync.replicas", "1", "INT");
        key("preallocate", "log.preallocate", "false", "BOOLEAN");
        key("remote.log.copy.disable", null, "false", "BOOLEAN");
        key("remote.log.delete.on.disable", null, "false", "BOOLEAN");
        key("remote.storage.enable", null, "false", "BOOLEAN");
        key("retention.bytes", "log.retention.bytes", "-1", "LONG");
        key("retention.ms", "log.retention.ms", "604800000", "LONG");
        key("segment.bytes", "log.segment.bytes", "1073741824", "INT");
        key("segment.index.bytes", "log.index.size.max.bytes", "10485760", "INT");
        key("segment.jitter.ms", "log.roll.jitter.ms", "0", "LONG");
        key("segment.ms", "log.roll.ms", "604800000", "LONG");
        key("unclean.leader.election.enable", "unclean.leader.election.enable", "false", "BOOLEAN");
    }

    /** The broker's dynamic settings in force: the cluster-wide default and this broker's own. */
    public record DynamicLayers(Map<String, String> clusterDefault, Map<String, String> perBroker) {
        public static final DynamicLayers NONE = new DynamicLayers(Map.of(), Map.of());

        public DynamicLayers {
            clusterDefault = Map.copyOf(clusterDefault);
            perBroker = Map.copyOf(perBroker);
        }
    }

    /**
     * What a client's produce reads of a topic's config, resolved and parsed: max.message.bytes, compression.type
     * (as configured), message.timestamp.type is LogAppendTime, the timestamp bounds (message.timestamp.before/after
     * .max.ms with 3.9's difference.max.ms fallback), a cleanup.policy with compact, and min.insync.replicas.
     */
    public record ProduceSettings(int maxMessageBytes, String compressionType, boolean logAppendTime,
                                  long timestampBeforeMaxMs, long timestampAfterMaxMs, boolean compacted,
                                  int minInsyncReplicas) {
    }

    /** {@link ProduceSettings} with the dynamic layers they were resolved under. */
    private record CachedProduceSettings(DynamicLayers layers, ProduceSettings settings) {
    }

    /**
     * Distinct override sets remembered; most topics share the empty one, so this is far more than a cluster uses.
     * Past it the cache starts over (a client creating topics with ever new configs cannot grow it).
     */
    static final int PRODUCE_SETTINGS_CACHED_MAX = 1024;

    private final TandemConfig broker;
    private volatile DynamicLayers dynamic;
    /**
     * Produce settings by topic overrides (by content: a topic whose config changes has new overrides and so a new
     * entry). An entry resolved under other dynamic layers than those in force is stale and resolved again.
     */
    private final ConcurrentHashMap<Map<String, String>, CachedProduceSettings> produceSettings =
            new ConcurrentHashMap<>();

    public TopicConfigs(TandemConfig broker) {
        this(broker, DynamicLayers.NONE);
    }

    private TopicConfigs(TandemConfig broker, DynamicLayers dynamic) {
        this.broker = broker;
        this.dynamic = dynamic;
    }

    /** The dynamic broker settings from now on. */
    public void dynamic(DynamicLayers layers) {
        this.dynamic = layers;
    }

    public DynamicLayers dynamic() {
        return dynamic;
    }

    /** The same static settings under other dynamic ones: what a dynamic change would make of every topic. */
    public TopicConfigs withDynamic(DynamicLayers layers) {
        return new TopicConfigs(broker, layers);
    }

    /** The broker's static settings (server.properties keys), for DescribeConfigs(BROKER). */
    public Map<String, String> brokerSettings() {
        return broker.settings();
    }

    public record Value(String name, String value, ConfigSource source) {
    }

    /**
     * The broker-level default for a topic key: the broker key set dynamically (for this broker, then for the
     * cluster), else set statically (with Kafka's synonyms), else Kafka's default.
     */
    public Value brokerDefault(Key key) {
        if (key.brokerKey() != null) {
            DynamicLayers layers = dynamic;
            String value = layers.perBroker().get(key.brokerKey());
            if (value != null) return new Value(key.name(), value.trim(), ConfigSource.DYNAMIC_BROKER_CONFIG);
            value = layers.clusterDefault().get(key.brokerKey());
            if (value != null) return new Value(key.name(), value.trim(), ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG);
        }
        String value = key.brokerKey() == null ? null : broker.get(key.brokerKey());
        if (value == null && key.name().equals("retention.ms")) {
            // log.retention.ms wins over .minutes over .hours, as in Kafka.
            String minutes = broker.get("log.retention.minutes");
            String hours = broker.get("log.retention.hours");
            if (minutes != null) value = Long.toString(Long.parseLong(minutes.trim()) * 60_000L);
            else if (hours != null) value = Long.toString(Long.parseLong(hours.trim()) * 3_600_000L);
        }
        if (value == null && key.name().equals("segment.ms") && broker.get("log.roll.hours") != null) {
            value = Long.toString(Long.parseLong(broker.get("log.roll.hours").trim()) * 3_600_000L);
        }
        if (value == null && key.name().equals("segment.jitter.ms") && broker.get("log.roll.jitter.hours") != null) {
            value = Long.toString(Long.parseLong(broker.get("log.roll.jitter.hours").trim()) * 3_600_000L);
        }
        if (value == null && key.name().equals("flush.ms")) {
            // Kafka's log.flush.interval.ms falls back to log.flush.scheduler.interval.ms.
            value = broker.get("log.flush.scheduler.interval.ms");
        }
        if (value != null) return new Value(key.name(), value.trim(), ConfigSource.STATIC_BROKER_CONFIG);
        return new Value(key.name(), key.defaultValue(), ConfigSource.DEFAULT_CONFIG);
    }

    /**
     * The produce settings of a topic with these overrides, parsed once per distinct overrides and dynamic broker
     * settings rather than on every partition of every produce request.
     */
    public ProduceSettings produceSettings(Map<String, String> overrides) {
        DynamicLayers layers = dynamic;
        CachedProduceSettings cached = produceSettings.get(overrides);
        if (cached != null && cached.layers() == layers) return cached.settings();
        ProduceSettings settings = resolveProduceSettings(overrides);
        if (produceSettings.size() >= PRODUCE_SETTINGS_CACHED_MAX) produceSettings.clear();
        // Keyed by a copy: the caller's map may be one a later config change edits.
        produceSettings.put(new HashMap<>(overrides), new CachedProduceSettings(layers, settings));
        return settings;
    }

    private ProduceSettings resolveProduceSettings(Map<String, String> overrides) {
        boolean compacted = false;
        for (String policy : value(overrides, "cleanup.policy").split(",")) {
            if (policy.trim().equals("compact")) compacted = true;
        }
        return new ProduceSettings(
                Integer.parseInt(value(overrides, "max.message.bytes").trim()),
                value(overrides, "compression.type"),
                "LogAppendTime".equals(value(overrides, "message.timestamp.type").trim()),
                timestampBeforeMaxMs(overrides),
                timestampAfterMaxMs(overrides),
                compacted,
                Integer.parseInt(value(overrides, "min.insync.replicas").trim()));
    }

    /** Every topic key with its effective value for a topic with these overrides. */
    public Map<String, Value> effective(Map<String, String> overrides) {
        Map<String, Value> result = new LinkedHashMap<>();
        for (Key key : KEYS.values()) {
            String override = overrides.get(key.name());
            result.put(key.name(), override != null ? new Value(key.name(), override, ConfigSource.TOPIC_CONFIG)
                    : brokerDefault(key));
        }
        return result;
    }

    public String value(Map<String, String> overrides, String name) {
        String override = overrides.get(name);
        return override != null ? override : brokerDefault(KEYS.get(name)).value();
    }

    /**
     * The oldest record timestamp accepted, as an age in ms: message.timestamp.before.max.ms, or, while that is
     * unbounded, message.timestamp.difference.max.ms, as Kafka 3.9's LogConfig resolves them.
     */
    public long timestampBeforeMaxMs(Map<String, String> overrides) {
        long before = longValue(overrides, "message.timestamp.before.max.ms");
        return before != Long.MAX_VALUE ? before : longValue(overrides, "message.timestamp.difference.max.ms");
    }

    /**
     * How far in the future a record timestamp may lie, in ms: message.timestamp.after.max.ms when it is set to a
     * bound, else a set message.timestamp.difference.max.ms (Kafka 3.9's rule), else after.max.ms's default. Kafka
     * 3.9 defaulted after.max.ms to unbounded, so "unbounded" there meant "not set"; with 4.x's one-hour default a
     * 3.9 user's difference.max.ms must still bound both sides, so here "not set" is what falls back.
     */
    public long timestampAfterMaxMs(Map<String, String> overrides) {
        Map<String, Value> effective = effective(overrides);
        Value after = effective.get("message.timestamp.after.max.ms");
        boolean afterSet = after.source() != ConfigSource.DEFAULT_CONFIG;
        if (afterSet && Long.parseLong(after.value().trim()) != Long.MAX_VALUE) return Long.parseLong(after.value().trim());
        Value difference = effective.get("message.timestamp.difference.max.ms");
        if (difference.source() != ConfigSource.DEFAULT_CONFIG) return Long.parseLong(difference.value().trim());
        return Long.parseLong(after.value().trim());
    }

    private long longValue(Map<String, String> overrides, String name) {
        return Long.parseLong(value(overrides, name).trim());
    }

    /**
     * Kafka's check across keys (LogConfig.validateValues) on a topic's effective settings: min.compaction.lag.ms may
     * not exceed max.compaction.lag.ms. Null when they agree, else Kafka's message (INVALID_CONFIG).
     */
    public String conflict(Map<String, String> overrides) {
        long min = Long.parseLong(value(overrides, "min.compaction.lag.ms").trim());
        long max = Long.parseLong(value(overrides, "max.compaction.lag.ms").trim());
        return min > max ? "conflict topic config setting min.compaction.lag.ms (" + min
                + ") > max.compaction.lag.ms (" + max + ")" : null;
    }

    public LogConfig logConfig(Map<String, String> overrides) {
        Map<String, String> flat = new LinkedHashMap<>();
        for (Map.Entry<String, Value> e : effective(overrides).entrySet()) flat.put(e.getKey(), e.getValue().value());
        return LogConfig.fromTopicConfig(flat);
    }

    /** Why a topic config override is not acceptable, or null. */
    public static String invalidReason(String name, String value) {
        Key key = KEYS.get(name);
        if (key == null) return "Unknown topic config name: " + name;
        if (value == null) return null;
        try {
            switch (key.type()) {
                case "INT" -> Integer.parseInt(value.trim());
                case "LONG" -> Long.parseLong(value.trim());
                case "DOUBLE" -> Double.parseDouble(value.trim());
                case "BOOLEAN" -> {
                    if (!value.trim().equalsIgnoreCase("true") && !value.trim().equalsIgnoreCase("false")) {
                        return "Invalid value " + value + " for configuration " + name + ": Expected value to be either true or false";
                    }
                }
                default -> { }
            }
        } catch (NumberFormatException e) {
            return "Invalid value " + value + " for configuration " + name + ": Not a number of type " + key.type();
        }
        String rangeReason = belowMinimum(name, value.trim());
        if (rangeReason != null) return rangeReason;
        if (name.equals("message.format.version") && !isKafka39MetadataVersion(value.trim())) {
            return "Invalid value " + value + " for configuration message.format.version: Version " + value
                    + " is not a valid version";
        }
        if (name.equals("remote.storage.enable") && Boolean.parseBoolean(value.trim())) {
            // Kafka's answer when the broker has no tiered storage, which Tandem never has.
            return "Tiered Storage functionality is disabled in the broker. Topic cannot be configured with remote log storage.";
        }
        if ((name.equals("remote.log.copy.disable") || name.equals("remote.log.delete.on.disable"))
                && Boolean.parseBoolean(value.trim())) {
            return "It is invalid to set `remote.log.delete.on.disable` or `remote.log.copy.disable` under Zookeeper's mode.";
        }
        if (name.endsWith(".replication.throttled.replicas") && !value.trim().isEmpty()) {
            if (!value.trim().equals("*") && !value.trim().matches("\\s*\\d+\\s*:\\s*\\d+\\s*(,\\s*\\d+\\s*:\\s*\\d+\\s*)*")) {
                return "Invalid value [" + value + "] for configuration " + name + ": " + name
                        + " must be the literal '*' or a list of replicas in the following format: "
                        + "[partitionId]:[brokerId],[partitionId]:[brokerId],...";
            }
            // Kafka accepts a throttle list; Tandem has no replication throttling, so it refuses rather than ignore.
            return "Tandem does not throttle replication: " + name + " must be empty";
        }
        if (name.equals("cleanup.policy")) {
            for (String part : value.split(",")) {
                String p = part.trim();
                if (!p.equals("delete") && !p.equals("compact")) {
                    return "Invalid value " + value + " for configuration cleanup.policy: String must be one of: compact, delete";
                }
            }
        }
        if (name.equals("compression.type") && !java.util.List.of("uncompressed", "zstd", "lz4", "snappy", "gzip",
                "producer").contains(value.trim())) {
            return "Invalid value " + value + " for configuration compression.type: String must be one of: uncompressed, zstd, lz4, snappy, gzip, producer";
        }
        if (name.equals("message.timestamp.type") && !value.equals("CreateTime") && !value.equals("LogAppendTime")) {
            return "Invalid value " + value + " for configuration message.timestamp.type: String must be one of: CreateTime, LogAppendTime";
        }
        return null;
    }

    /** Kafka's lower bounds on numeric topic keys that have one other than none, with Kafka's message. */
    private static String belowMinimum(String name, String value) {
        long minimum;
        switch (name) {
            case "message.timestamp.difference.max.ms", "segment.jitter.ms" -> minimum = 0;
            case "local.retention.ms", "local.retention.bytes" -> minimum = -2;
            default -> {
                return null;
            }
        }
        return Long.parseLong(value) < minimum
                ? "Invalid value " + value + " for configuration " + name + ": Value must be at least " + minimum
                : null;
    }

    /** Kafka 3.9's MetadataVersion.version() strings: what message.format.version accepted, with the short forms. */
    private static final java.util.List<String> KAFKA_39_METADATA_VERSIONS = java.util.List.of(
            "0.8.0", "0.8.1", "0.8.2", "0.9.0", "0.10.0-IV0", "0.10.0-IV1", "0.10.1-IV0", "0.10.1-IV1", "0.10.1-IV2",
            "0.10.2-IV0", "0.11.0-IV0", "0.11.0-IV1", "0.11.0-IV2", "1.0-IV0", "1.1-IV0", "2.0-IV0", "2.0-IV1",
            "2.1-IV0", "2.1-IV1", "2.1-IV2", "2.2-IV0", "2.2-IV1", "2.3-IV0", "2.3-IV1", "2.4-IV0", "2.4-IV1",
            "2.5-IV0", "2.6-IV0", "2.7-IV0", "2.7-IV1", "2.7-IV2", "2.8-IV0", "2.8-IV1", "3.0-IV0", "3.0-IV1",
            "3.1-IV0", "3.2-IV0", "3.3-IV0", "3.3-IV1", "3.3-IV2", "3.3-IV3", "3.4-IV0", "3.5-IV0", "3.5-IV1",
            "3.5-IV2", "3.6-IV0", "3.6-IV1", "3.6-IV2", "3.7-IV0", "3.7-IV1", "3.7-IV2", "3.7-IV3", "3.7-IV4",
            "3.8-IV0", "3.9-IV0");
    /** 3.9's unstable versions: accepted by their full name only, never by a short form. */
    private static final java.util.List<String> KAFKA_39_UNSTABLE_METADATA_VERSIONS = java.util.List.of("4.0-IV0", "4.0-IV1");

    /**
     * Kafka 3.9's MetadataVersion.fromVersionString: a full version, or its short form ("2.8", "0.10.0"), where
     * any further segments are ignored ("2.8.1", "0.10.0.1").
     */
    static boolean isKafka39MetadataVersion(String version) {
        if (KAFKA_39_UNSTABLE_METADATA_VERSIONS.contains(version)) return true;
        String[] segments = version.split("\\.");
        int kept = version.startsWith("0.") ? 3 : 2;
        String key = kept >= segments.length ? version : String.join(".", java.util.Arrays.copyOf(segments, kept));
        for (String known : KAFKA_39_METADATA_VERSIONS) {
            if (known.equals(key) || known.replaceFirst("-IV\\d+$", "").equals(key)) return true;
        }
        return false;
    }
}
