package io.tandem.server.kafka;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Collections;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * Kafka's broker configuration keys and which of them Tandem honours. The catalogue ({@code kafka-broker-keys.tsv},
 * every key of Kafka 3.9 and 4.x with its type, default and dynamic update mode, taken from Kafka's own ConfigDef)
 * is what DescribeConfigs and the dynamic-config answers are measured against; {@link #IMPLEMENTED} and
 * {@link #DYNAMIC} say what Tandem really does with them. A key outside {@link #IMPLEMENTED} is not in force here:
 * it is warned about at start-up and never reported by DescribeConfigs.
 */
public final class BrokerConfigKeys {
    /** How Kafka lets a key change at runtime (DynamicBrokerConfig). */
    public enum UpdateMode {
        READ_ONLY, PER_BROKER, CLUSTER_WIDE,
        /** Only under a {@code listener.name.<listener>.} prefix (the keystore and truststore keys). */
        LISTENER_ONLY
    }

    /**
     * A broker key as Kafka defines it; {@code kafkaDefault} is null when Kafka has none; {@code versions} says which
     * of Kafka 3.9 and 4.x define it ("3.9", "4" or "both").
     */
    public record Key(String name, String type, String kafkaDefault, UpdateMode mode, String versions) {
        /** Whether Kafka 3.9 (the ZooKeeper-mode broker Tandem answers as) defines the key. */
        public boolean inKafka39() {
            return !versions.equals("4");
        }
    }

    /** Every broker key Kafka 3.9 or 4.x defines, by name. */
    public static final Map<String, Key> KAFKA = load();

    /** Broker keys that set the defaults of the topic keys Tandem enforces (see {@link TopicConfigs}). */
    private static final Set<String> TOPIC_DEFAULTS = Set.of("message.max.bytes", "compression.type",
            "log.cleanup.policy", "log.cleaner.delete.retention.ms", "log.segment.delete.delay.ms",
            "log.flush.interval.messages", "log.flush.interval.ms", "log.flush.scheduler.interval.ms",
            "log.index.interval.bytes", "log.index.size.max.bytes", "log.message.timestamp.type",
            "log.message.timestamp.before.max.ms", "log.message.timestamp.after.max.ms",
            "log.cleaner.min.cleanable.ratio", "log.cleaner.min.compaction.lag.ms", "log.retention.bytes",
            "log.retention.ms", "log.retention.minutes", "log.retention.hours", "log.segment.bytes", "log.roll.ms",
            "log.roll.hours", "log.roll.jitter.ms", "log.roll.jitter.hours", "log.message.downconversion.enable",
            "log.message.timestamp.difference.max.ms", "log.cleaner.max.compaction.lag.ms");

    /**
     * Kafka 3.9's PASSWORD keys: DescribeConfigs lists each of them on a broker with a null value and isSensitive, as
     * Kafka lists every key of its configuration, whatever Tandem does with it (a value is never sent).
     */
    public static final Set<String> PASSWORDS = KAFKA.values().stream()
            .filter(k -> k.type().equals("PASSWORD") && k.inKafka39()).map(Key::name)
            .collect(java.util.stream.Collectors.toUnmodifiableSet());

    /** Keys Tandem reads at start-up and honours (server/README.md says how). */
    public static final Set<String> IMPLEMENTED;

    /**
     * Keys Tandem applies when AlterConfigs / IncrementalAlterConfigs change them on a BROKER resource: the topic
     * defaults above that Kafka lets change at runtime (min.insync.replicas too), the request handler pool, the
     * connection limits, producer.id.expiration.ms and transaction.partition.verification.enable (Kafka's
     * DynamicProducerStateManagerConfig) and unclean.leader.election.enable (turned on, the controller
     * elects leaders for partitions without one, as Kafka's DynamicLogConfig has it do).
     */
    public static final Set<String> DYNAMIC = Set.of("log.segment.bytes", "log.roll.ms", "log.roll.jitter.ms",
            "log.index.size.max.bytes",
            "log.flush.interval.messages", "log.flush.interval.ms", "log.retention.bytes", "log.retention.ms",
            "message.max.bytes", "log.index.interval.bytes", "log.cleaner.delete.retention.ms",
            "log.cleaner.min.compaction.lag.ms", "log.segment.delete.delay.ms", "log.cleaner.min.cleanable.ratio",
            "log.cleanup.policy", "compression.type", "log.message.timestamp.type",
            "log.message.timestamp.before.max.ms", "log.message.timestamp.after.max.ms", "num.io.threads",
            "log.message.downconversion.enable", "log.message.timestamp.difference.max.ms",
            "log.cleaner.threads", "log.cleaner.backoff.ms", "log.cleaner.max.compaction.lag.ms",
            "max.connections", "max.connections.per.ip", "min.insync.replicas", "producer.id.expiration.ms",
            "transaction.partition.verification.enable", "unclean.leader.election.enable",
            "max.connection.creation.rate", "max.connections.per.ip.overrides");

    /**
     * Where Tandem's default differs from Kafka's: broker.id (Kafka's -1 means "generate one", which Tandem does not
     * do), offsets.topic.replication.factor and the transaction and share state topics' replication and min ISR
     * (Kafka's 3 and 2 refuse to create those topics, or to write to them, on one node).
     */
    private static final Map<String, String> TANDEM_DEFAULTS = Map.of("broker.id", "0",
            "offsets.topic.replication.factor", "1", "queued.max.request.bytes", "104857600",
            "transaction.state.log.replication.factor", "1", "transaction.state.log.min.isr", "1",
            "share.coordinator.state.topic.replication.factor", "1", "share.coordinator.state.topic.min.isr", "1");

    /** The transaction coordinator's keys (io.tandem.server.kafka.txn.TransactionConfig). */
    private static final Set<String> TRANSACTION_KEYS = Set.of("transaction.max.timeout.ms",
            "transaction.state.log.num.partitions", "transaction.state.log.replication.factor",
            "transaction.state.log.min.isr", "transaction.state.log.segment.bytes",
            "transaction.abort.timed.out.transaction.cleanup.interval.ms", "transactional.id.expiration.ms",
            "transaction.remove.expired.transaction.cleanup.interval.ms");

    /**
     * Where Kafka 3.9's ConfigDef types a key otherwise than 4.x (the catalogue's type): DescribeConfigs answers as the
     * 3.9 broker in ZooKeeper mode does (checked against Apache Kafka 3.9.1, ApacheSaslListenerDifferentialTest).
     */
    private static final Map<String, String> KAFKA39_TYPES = Map.of("listeners", "STRING",
            "advertised.listeners", "STRING", "log.dir", "STRING", "log.dirs", "STRING",
            "group.share.max.size", "SHORT");

    /**
     * Keys the catalogue marks as in both versions that Kafka 3.9 defines as internal (defineInternal), so that its
     * DescribeConfigs never lists them.
     */
    private static final Set<String> KAFKA39_INTERNAL = Set.of("producer.id.expiration.check.interval.ms",
            "group.consumer.migration.policy", "log.initial.task.delay.ms");

    /** Whether a Kafka 3.9 broker lists the key in DescribeConfigs: it defines it, and not as internal. */
    public static boolean describedByKafka39(String name) {
        Key key = KAFKA.get(name);
        return key != null && key.inKafka39() && !KAFKA39_INTERNAL.contains(name);
    }

    /** Kafka's ConfigDef validators of the implemented keys, with Kafka's wording. */
    private static final Map<String, Double> AT_LEAST = new HashMap<>();
    private static final Map<String, Double> AT_MOST = new HashMap<>();
    private static final Map<String, List<String>> ONE_OF = new HashMap<>();

    static {
        Set<String> implemented = new java.util.HashSet<>(TOPIC_DEFAULTS);
        implemented.addAll(Set.of("broker.id", "node.id", "broker.rack", "listeners", "advertised.listeners",
                "listener.security.protocol.map", "inter.broker.listener.name", "security.inter.broker.protocol",
                "log.dirs", "log.dir", "num.partitions", "default.replication.factor", "auto.create.topics.enable",
                "delete.topic.enable", "offsets.topic.num.partitions", "offsets.topic.replication.factor",
                "socket.request.max.bytes", "num.io.threads", "num.network.threads", "queued.max.requests",
                "zookeeper.connect", "zookeeper.session.timeout.ms", "zookeeper.connection.timeout.ms",
                "group.min.session.timeout.ms",
                "group.max.session.timeout.ms", "group.initial.rebalance.delay.ms", "group.max.size",
                "offset.metadata.max.bytes", "log.retention.check.interval.ms",
                // The log cleaner: io.tandem.server.kafka.log.LogMaintenance.
                "log.cleaner.enable", "log.cleaner.threads", "log.cleaner.backoff.ms",
                // The first run of retention, flushes and checkpoints (LogMaintenance), as Kafka's LogManager.
                "log.initial.task.delay.ms",
                // Read by Kafka 3.9 only in KRaft mode (BrokerServer's log-directory failure report); its ZooKeeper-mode
                // broker validates it and does nothing with it, as Tandem does.
                "log.dir.failure.timeout.ms",
                // Validated as Kafka's MetadataVersionValidator; without effect, as on any broker whose
                // inter.broker.protocol.version is 3.0 or higher (Kafka 3.9 uses its default then).
                "log.message.format.version",
                "log.flush.offset.checkpoint.interval.ms", "replica.lag.time.max.ms",
                "replica.fetch.max.bytes", "replica.fetch.backoff.ms", "min.insync.replicas",
                // What a follower's Fetch asks its leader: io.tandem.server.kafka.replica.ReplicaFetcherConfig.
                "replica.fetch.wait.max.ms", "replica.fetch.min.bytes", "replica.fetch.response.max.bytes",
                // The inter-broker clients' timeouts: io.tandem.server.kafka.network.InterBrokerTimeouts.
                "replica.socket.timeout.ms", "controller.socket.timeout.ms", "socket.connection.setup.timeout.ms",
                "socket.connection.setup.timeout.max.ms",
                "unclean.leader.election.enable",
                // KIP-392: which replica a consumer reads from (io.tandem.server.kafka.replica.ReadReplicaSelector).
                "replica.selector.class",
                "controlled.shutdown.enable", "controlled.shutdown.max.retries", "controlled.shutdown.retry.backoff.ms",
                "auto.leader.rebalance.enable", "leader.imbalance.check.interval.seconds",
                "leader.imbalance.per.broker.percentage", "queued.max.request.bytes", "max.connections", "max.connections.per.ip",
                // Per-address maxima: io.tandem.server.kafka.network.ConnectionLimitSettings.
                "max.connections.per.ip.overrides",
                "connections.max.idle.ms", "connection.failed.authentication.delay.ms",
                "max.incremental.fetch.session.cache.slots", "producer.id.expiration.ms",
                "producer.id.expiration.check.interval.ms",
                // KIP-890 part 1 (io.tandem.server.kafka.txn.TransactionConfig): Produce and TxnOffsetCommit.
                "transaction.partition.verification.enable", "offsets.retention.minutes",
                "offsets.retention.check.interval.ms",
                // Consumer groups (KIP-848): io.tandem.server.kafka.group.consumer.ConsumerGroupConfig.
                "group.consumer.session.timeout.ms", "group.consumer.min.session.timeout.ms",
                "group.consumer.max.session.timeout.ms", "group.consumer.heartbeat.interval.ms",
                "group.consumer.min.heartbeat.interval.ms", "group.consumer.max.heartbeat.interval.ms",
                "group.consumer.max.size", "group.consumer.assignors", "group.consumer.migration.policy",
                // Share groups (KIP-932): io.tandem.server.kafka.group.share.ShareGroupConfig.
                "group.share.session.timeout.ms", "group.share.min.session.timeout.ms",
                "group.share.max.session.timeout.ms", "group.share.heartbeat.interval.ms",
                "group.share.min.heartbeat.interval.ms", "group.share.max.heartbeat.interval.ms",
                "group.share.record.lock.duration.ms", "group.share.min.record.lock.duration.ms",
                "group.share.max.record.lock.duration.ms", "group.share.delivery.count.limit",
                "group.share.min.delivery.count.limit", "group.share.max.delivery.count.limit",
                "group.share.partition.max.record.locks", "group.share.min.partition.max.record.locks",
                "group.share.max.partition.max.record.locks", "group.share.max.size",
                "group.share.max.share.sessions", "group.share.initialize.retry.interval.ms",
                // The share coordinator: io.tandem.server.kafka.group.share.state.ShareCoordinatorConfig.
                "share.coordinator.state.topic.num.partitions", "share.coordinator.state.topic.replication.factor",
                "share.coordinator.state.topic.min.isr", "share.coordinator.state.topic.segment.bytes",
                "share.coordinator.snapshot.update.records.per.snapshot", "share.coordinator.write.timeout.ms",
                // Client quotas: io.tandem.server.kafka.quota.QuotaWindow.
                "quota.window.num", "quota.window.size.seconds",
                // The controller mutation quota (KIP-599): io.tandem.server.kafka.quota.ControllerMutationQuotaManager.
                "controller.quota.window.num", "controller.quota.window.size.seconds",
                // The broker-wide connection creation rate (KIP-612): io.tandem.server.kafka.quota.ConnectionRateQuotas.
                "max.connection.creation.rate",
                // Re-authentication (KIP-368): io.tandem.server.kafka.security.SaslAuthenticator.
                "connections.max.reauth.ms",
                // Delegation tokens: io.tandem.server.kafka.security.DelegationTokens (the secret key is a password,
                // honoured by BrokerConfigPolicy but never described).
                "delegation.token.max.lifetime.ms", "delegation.token.expiry.time.ms",
                "delegation.token.expiry.check.interval.ms",
                // Dynamic password encryption: io.tandem.server.kafka.security.PasswordEncoder (the secrets are
                // passwords, honoured by BrokerConfigPolicy and described as sensitive).
                "password.encoder.keyfactory.algorithm", "password.encoder.cipher.algorithm",
                "password.encoder.key.length", "password.encoder.iterations"));
        implemented.addAll(TRANSACTION_KEYS);
        // Kafka 4.x's server-side retry of a transaction version 2 produce's implicit add (TransactionConfig).
        implemented.addAll(Set.of("add.partitions.to.txn.retry.backoff.max.ms",
                "add.partitions.to.txn.retry.backoff.ms"));
        IMPLEMENTED = Collections.unmodifiableSet(implemented);
        for (String name : IMPLEMENTED) {
            if (!KAFKA.containsKey(name)) throw new IllegalStateException(name + " is not a Kafka broker key");
        }
        for (String name : DYNAMIC) {
            if (!IMPLEMENTED.contains(name) || KAFKA.get(name).mode() == UpdateMode.READ_ONLY) {
                throw new IllegalStateException(name + " cannot be a dynamic key Tandem applies");
            }
        }
        for (String name : List.of("num.partitions", "offsets.topic.num.partitions", "offsets.topic.replication.factor",
                "socket.request.max.bytes", "num.io.threads", "num.network.threads", "queued.max.requests",
                "group.max.size", "log.retention.check.interval.ms", "log.flush.interval.messages", "log.roll.hours",
                "log.flush.offset.checkpoint.interval.ms", "log.dir.failure.timeout.ms",
                "log.cleaner.max.compaction.lag.ms")) {
            AT_LEAST.put(name, 1.0);
        }
        for (String name : List.of("node.id", "message.max.bytes", "log.cleaner.delete.retention.ms",
                "log.segment.delete.delay.ms", "log.index.interval.bytes", "log.cleaner.min.compaction.lag.ms",
                "log.cleaner.min.cleanable.ratio", "log.message.timestamp.before.max.ms",
                "log.message.timestamp.after.max.ms", "log.message.timestamp.difference.max.ms",
                "log.initial.task.delay.ms", "log.roll.jitter.ms", "log.roll.jitter.hours")) {
            AT_LEAST.put(name, 0.0);
        }
        // Kafka's validators of the transaction keys: every one at least 1.
        for (String name : TRANSACTION_KEYS) AT_LEAST.put(name, 1.0);
        AT_LEAST.put("add.partitions.to.txn.retry.backoff.max.ms", 0.0);
        AT_LEAST.put("add.partitions.to.txn.retry.backoff.ms", 1.0);
        AT_LEAST.put("log.index.size.max.bytes", 4.0);
        AT_LEAST.put("log.cleaner.threads", 0.0);
        AT_LEAST.put("log.cleaner.backoff.ms", 0.0);
        AT_LEAST.put("connection.failed.authentication.delay.ms", 0.0);
        AT_LEAST.put("replica.fetch.backoff.ms", 0.0);
        AT_LEAST.put("replica.fetch.max.bytes", 0.0);
        AT_LEAST.put("replica.fetch.response.max.bytes", 0.0);
        // Kafka defines these four without a validator; a timeout below 1 ms would fail every request or
        // connection at once, so Tandem refuses it rather than run a broker that cannot reach its peers.
        for (String name : List.of("replica.socket.timeout.ms", "controller.socket.timeout.ms",
                "socket.connection.setup.timeout.ms", "socket.connection.setup.timeout.max.ms")) {
            AT_LEAST.put(name, 1.0);
        }
        AT_LEAST.put("min.insync.replicas", 1.0);
        AT_LEAST.put("producer.id.expiration.ms", 1.0);
        AT_LEAST.put("quota.window.num", 1.0);
        AT_LEAST.put("delegation.token.max.lifetime.ms", 1.0);
        AT_LEAST.put("delegation.token.expiry.time.ms", 1.0);
        AT_LEAST.put("delegation.token.expiry.check.interval.ms", 1.0);
        AT_LEAST.put("quota.window.size.seconds", 1.0);
        AT_LEAST.put("controller.quota.window.num", 1.0);
        AT_LEAST.put("controller.quota.window.size.seconds", 1.0);
        AT_LEAST.put("max.connection.creation.rate", 0.0);
        AT_LEAST.put("max.connections", 0.0);
        AT_LEAST.put("max.connections.per.ip", 0.0);
        AT_LEAST.put("password.encoder.key.length", 8.0);
        AT_LEAST.put("password.encoder.iterations", 1024.0);
        AT_LEAST.put("log.segment.bytes", 1048576.0);
        AT_MOST.put("log.cleaner.min.cleanable.ratio", 1.0);
        ONE_OF.put("security.inter.broker.protocol", List.of("PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"));
        ONE_OF.put("compression.type", List.of("uncompressed", "zstd", "lz4", "snappy", "gzip", "producer"));
        ONE_OF.put("log.cleanup.policy", List.of("compact", "delete"));
        ONE_OF.put("log.message.timestamp.type", List.of("CreateTime", "LogAppendTime"));
    }

    private BrokerConfigKeys() {
    }

    private static Map<String, Key> load() {
        Map<String, Key> keys = new LinkedHashMap<>();
        try (InputStream in = BrokerConfigKeys.class.getResourceAsStream("kafka-broker-keys.tsv")) {
            if (in == null) throw new IllegalStateException("kafka-broker-keys.tsv is missing from the class path");
            BufferedReader reader = new BufferedReader(new InputStreamReader(in, StandardCharsets.UTF_8));
            for (String line = reader.readLine(); line != null; line = reader.readLine()) {
                if (line.isBlank() || line.startsWith("#")) continue;
                String[] f = line.split("\t", -1);
                String kafkaDefault = f[2].equals("null") || f[2].equals("<none>") ? null : f[2];
                UpdateMode mode = UpdateMode.valueOf(f[3].toUpperCase(Locale.ROOT).replace('-', '_'));
                keys.put(f[0], new Key(f[0], f[1], kafkaDefault, mode, f[4].trim()));
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return Collections.unmodifiableMap(keys);
    }

    /** Tandem's default for a key (Kafka's unless {@link #TANDEM_DEFAULTS} says otherwise); null when none. */
    public static String defaultValue(String name) {
        if (TANDEM_DEFAULTS.containsKey(name)) return TANDEM_DEFAULTS.get(name);
        // Kafka 3.9 defaults node.id to -1 (4.x has no default); Tandem then takes broker.id, as 3.9 does.
        if (name.equals("node.id")) return "-1";
        Key key = KAFKA.get(name);
        return key == null ? null : key.kafkaDefault();
    }

    /** Kafka 3.9's ConfigDef type name of a key ("STRING" for keys Kafka does not define). */
    public static String type(String name) {
        if (KAFKA39_TYPES.containsKey(name)) return KAFKA39_TYPES.get(name);
        Key key = KAFKA.get(name);
        if (key == null && listenerBase(name) != null) key = KAFKA.get(listenerBase(name));
        return key == null ? "STRING" : key.type();
    }

    /**
     * The keys that set the same value, most significant first, as Kafka's DynamicBrokerConfig.brokerConfigSynonyms
     * lists them (DescribeConfigs reports each one as a synonym).
     */
    public static List<String> synonyms(String name) {
        return switch (name) {
            case "log.roll.ms", "log.roll.hours" -> List.of("log.roll.ms", "log.roll.hours");
            case "log.roll.jitter.ms", "log.roll.jitter.hours" -> List.of("log.roll.jitter.ms", "log.roll.jitter.hours");
            case "log.flush.interval.ms" -> List.of("log.flush.interval.ms", "log.flush.scheduler.interval.ms");
            case "log.retention.ms", "log.retention.minutes", "log.retention.hours" ->
                    List.of("log.retention.ms", "log.retention.minutes", "log.retention.hours");
            default -> {
                String base = listenerBase(name);
                yield base == null ? List.of(name) : List.of(name, base);
            }
        };
    }

    /** Kafka's ListenerMechanismConfigs: per-listener keys that also carry a mechanism, {@code <mechanism>.<key>}. */
    private static final List<String> LISTENER_MECHANISM_KEYS = List.of("sasl.jaas.config",
            "sasl.login.callback.handler.class", "sasl.login.class", "sasl.server.callback.handler.class",
            "connections.max.reauth.ms");

    /**
     * The base key of a {@code listener.name.<listener>.<key>} (or {@code .<mechanism>.<key>}) override, as Kafka's
     * brokerConfigSynonyms with matchListenerOverride finds it; null for a key without a listener prefix.
     */
    public static String listenerBase(String name) {
        if (!name.startsWith("listener.name.")) return null;
        int dot = name.indexOf('.', "listener.name.".length());
        if (dot < 0) return null;
        String base = name.substring(dot + 1);
        for (String mechanismKey : LISTENER_MECHANISM_KEYS) {
            if (base.endsWith(mechanismKey)) return mechanismKey;
        }
        return base;
    }

    /**
     * Why {@code value} is not valid for {@code name}, in the words of Kafka's ConfigException ("Invalid value x for
     * configuration y: ..."), or null when it is (or Kafka does not check the key).
     */
    public static String invalidValue(String name, String value) {
        Key key = KAFKA.get(name);
        if (key == null || value == null) return null;
        String v = value.trim();
        Number number;
        try {
            switch (key.type()) {
                case "INT" -> number = Integer.parseInt(v);
                case "SHORT" -> number = Short.parseShort(v);
                case "LONG" -> number = Long.parseLong(v);
                case "DOUBLE" -> number = Double.parseDouble(v);
                case "BOOLEAN" -> {
                    if (!v.equalsIgnoreCase("true") && !v.equalsIgnoreCase("false")) {
                        return invalid(value, name, "Expected value to be either true or false");
                    }
                    return null;
                }
                default -> {
                    return invalidString(name, value);
                }
            }
        } catch (NumberFormatException e) {
            return invalid(value, name, "Not a number of type " + key.type());
        }
        Double min = AT_LEAST.get(name);
        Double max = AT_MOST.get(name);
        // Kafka prints the parsed value (1.0 for a DOUBLE) and its bounds as declared: all whole numbers here.
        String parsed = number.toString();
        if (min != null && number.doubleValue() < min) {
            return invalid(parsed, name, "Value must be at least " + min.longValue());
        }
        if (max != null && number.doubleValue() > max) {
            return invalid(parsed, name, "Value must be no more than " + max.longValue());
        }
        return null;
    }

    private static String invalidString(String name, String value) {
        List<String> allowed = ONE_OF.get(name);
        if (allowed == null) return null;
        boolean list = KAFKA.get(name).type().equals("LIST");
        for (String part : list ? value.split(",") : new String[] {value}) {
            if (!allowed.contains(part.trim())) {
                return invalid(list ? part.trim() : value, name, "String must be one of: " + String.join(", ", allowed));
            }
        }
        return null;
    }

    private static String invalid(String value, String name, String why) {
        return "Invalid value " + value + " for configuration " + name + ": " + why;
    }
}
