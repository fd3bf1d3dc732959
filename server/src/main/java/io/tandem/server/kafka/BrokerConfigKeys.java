package io.tandem.server.kafka;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The broker's own configuration set as DescribeConfigs(BROKER) reports it: every {@code server.properties} key
 * Kafka 4.x defines that matters to a single Tandem broker, with Kafka's default (null where Kafka has none), so
 * tools such as {@code kafka-configs.sh --describe --entity-type brokers --all} see what they see on Kafka.
 * The {@code log.*} keys that set topic defaults come from {@link TopicConfigs}, so the two never disagree.
 */
public final class BrokerConfigKeys {
    /** A broker key, Kafka's default value (null: none) and Kafka's ConfigDef type name. */
    public record Key(String name, String defaultValue, String type) {
    }

    /** Where a broker value came from, with Kafka's ConfigSource codes. */
    public enum Source {
        DYNAMIC_BROKER_CONFIG(2), STATIC_BROKER_CONFIG(4), DEFAULT_CONFIG(5);
        public final byte code;

        Source(int code) {
            this.code = (byte) code;
        }
    }

    public record Value(String name, String value, Source source, String type) {
    }

    public static final Map<String, Key> KEYS;

    static {
        Map<String, Key> keys = new LinkedHashMap<>();
        for (String[] k : new String[][] {
                // Defaults as in Kafka 4.x's ServerConfigs, ServerLogConfigs, SocketServerConfigs,
                // GroupCoordinatorConfig, ReplicationConfigs and TransactionLogConfigs.
                // Tandem's broker.id defaults to 0 (Kafka's to -1, then taken from node.id); see BrokerConfig.
                {"broker.id", "0", "INT"},
                {"broker.rack", null, "STRING"},
                {"listeners", "PLAINTEXT://:9092", "STRING"},
                {"advertised.listeners", null, "STRING"},
                {"auto.create.topics.enable", "true", "BOOLEAN"},
                {"delete.topic.enable", "true", "BOOLEAN"},
                {"auto.leader.rebalance.enable", "true", "BOOLEAN"},
                {"num.partitions", "1", "INT"},
                {"default.replication.factor", "1", "INT"},
                {"log.dir", "/tmp/kafka-logs", "STRING"},
                {"log.dirs", null, "STRING"},
                {"log.retention.hours", "168", "INT"},
                {"log.retention.minutes", null, "INT"},
                {"log.retention.ms", null, "LONG"},
                {"log.roll.hours", "168", "INT"},
                {"log.roll.ms", null, "LONG"},
                {"log.roll.jitter.hours", "0", "INT"},
                {"log.roll.jitter.ms", null, "LONG"},
                {"log.retention.check.interval.ms", "300000", "LONG"},
                {"log.flush.scheduler.interval.ms", "9223372036854775807", "LONG"},
                {"log.cleaner.enable", "true", "BOOLEAN"},
                {"log.cleaner.threads", "1", "INT"},
                {"num.recovery.threads.per.data.dir", "2", "INT"},
                {"num.io.threads", "8", "INT"},
                {"num.network.threads", "3", "INT"},
                {"queued.max.requests", "500", "INT"},
                // Tandem bounds request memory by default (Kafka's default is -1, unbounded); see BrokerConfig.
                {"queued.max.request.bytes", "104857600", "LONG"},
                {"max.connections", "2147483647", "INT"},
                {"max.connections.per.ip", "2147483647", "INT"},
                {"connections.max.idle.ms", "600000", "LONG"},
                {"max.incremental.fetch.session.cache.slots", "1000", "INT"},
                {"producer.id.expiration.ms", "86400000", "INT"},
                {"producer.id.expiration.check.interval.ms", "600000", "INT"},
                {"socket.request.max.bytes", "104857600", "INT"},
                {"socket.send.buffer.bytes", "102400", "INT"},
                {"socket.receive.buffer.bytes", "102400", "INT"},
                {"fetch.max.bytes", "57671680", "INT"},
                {"replica.fetch.max.bytes", "1048576", "INT"},
                {"replica.lag.time.max.ms", "30000", "LONG"},
                {"offsets.topic.num.partitions", "50", "INT"},
                // Tandem's default is 1 (Kafka's 3) so that one node works out of the box; see BrokerConfig.
                {"offsets.topic.replication.factor", "1", "SHORT"},
                {"offsets.retention.minutes", "10080", "INT"},
                {"offsets.retention.check.interval.ms", "600000", "LONG"},
                {"offset.metadata.max.bytes", "4096", "INT"},
                {"group.initial.rebalance.delay.ms", "3000", "INT"},
                {"group.min.session.timeout.ms", "6000", "INT"},
                {"group.max.session.timeout.ms", "1800000", "INT"},
                {"group.max.size", "2147483647", "INT"},
                {"transaction.state.log.num.partitions", "50", "INT"},
                {"transaction.state.log.replication.factor", "3", "SHORT"},
        }) {
            keys.put(k[0], new Key(k[0], k[1], k[2]));
        }
        for (TopicConfigs.Key topicKey : TopicConfigs.KEYS.values()) {
            // log.retention.ms has no default of its own in Kafka: log.retention.hours (168) supplies it.
            if (topicKey.brokerKey() == null || keys.containsKey(topicKey.brokerKey())) continue;
            keys.put(topicKey.brokerKey(), new Key(topicKey.brokerKey(), topicKey.defaultValue(), topicKey.type()));
        }
        KEYS = Collections.unmodifiableMap(keys);
    }

    private BrokerConfigKeys() {
    }

    /**
     * Every known broker key with its effective value: the dynamic override, else the static setting, else
     * Kafka's default. Dynamic overrides of keys not in the catalogue are reported too, so nothing written by
     * AlterConfigs goes missing.
     */
    public static List<Value> describe(Map<String, String> staticSettings, Map<String, String> dynamicOverrides) {
        List<Value> values = new ArrayList<>(KEYS.size());
        for (Key key : KEYS.values()) values.add(value(key.name(), key, staticSettings, dynamicOverrides));
        for (String name : dynamicOverrides.keySet()) {
            if (!KEYS.containsKey(name)) values.add(value(name, null, staticSettings, dynamicOverrides));
        }
        return values;
    }

    private static Value value(String name, Key key, Map<String, String> staticSettings, Map<String, String> dynamic) {
        String type = key == null ? "STRING" : key.type();
        String dynamicValue = dynamic.get(name);
        if (dynamicValue != null) return new Value(name, dynamicValue, Source.DYNAMIC_BROKER_CONFIG, type);
        String staticValue = staticSettings.get(name);
        if (staticValue != null) return new Value(name, staticValue.trim(), Source.STATIC_BROKER_CONFIG, type);
        return new Value(name, key == null ? null : key.defaultValue(), Source.DEFAULT_CONFIG, type);
    }
}
