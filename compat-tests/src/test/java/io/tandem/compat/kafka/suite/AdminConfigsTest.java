package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.AlterConfigsOptions;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * Topic configs through DescribeConfigs and IncrementalAlterConfigs (the Java 4.x Admin no longer has the legacy
 * AlterConfigs call; kafka-python's admin_configs.py covers that API).
 */
@ExtendWith(KafkaTargetExtension.class)
class AdminConfigsTest {

    @Test
    void describeShowsTopicOverridesAndDefaultsWithTheirSource(KafkaTarget target) throws Exception {
        String topic = unique("configs");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1, Map.of("retention.ms", "123456"));
            Config config = describe(admin, topic);
            ConfigEntry retention = config.get("retention.ms");
            assertEquals("123456", retention.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, retention.source());
            assertEquals(false, retention.isDefault());
            ConfigEntry cleanup = config.get("cleanup.policy");
            assertEquals("delete", cleanup.value());
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, cleanup.source());
            assertEquals("producer", config.get("compression.type").value());
            assertEquals("1048588", config.get("max.message.bytes").value());
            assertEquals("CreateTime", config.get("message.timestamp.type").value());
        }
    }

    @Test
    void incrementalAlterSetsDeletesAndAppends(KafkaTarget target) throws Exception {
        String topic = unique("alter");
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1, Map.of("retention.ms", "123456"));
            get(admin.incrementalAlterConfigs(Map.of(resource, List.of(
                    new AlterConfigOp(new ConfigEntry("max.message.bytes", "5000"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("retention.ms", null), AlterConfigOp.OpType.DELETE),
                    new AlterConfigOp(new ConfigEntry("cleanup.policy", "compact"), AlterConfigOp.OpType.APPEND))))
                    .all());
            Eventually.run(() -> {
                Config config = describe(admin, topic);
                assertEquals("5000", config.get("max.message.bytes").value());
                assertEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, config.get("max.message.bytes").source());
                assertEquals("604800000", config.get("retention.ms").value(), "deleted override falls back to default");
                assertNotEquals(ConfigEntry.ConfigSource.DYNAMIC_TOPIC_CONFIG, config.get("retention.ms").source());
                assertEquals("delete,compact", config.get("cleanup.policy").value());
            });
            get(admin.incrementalAlterConfigs(Map.of(resource, List.of(
                    new AlterConfigOp(new ConfigEntry("cleanup.policy", "delete"), AlterConfigOp.OpType.SUBTRACT))))
                    .all());
            Eventually.run(() -> assertEquals("compact", describe(admin, topic).get("cleanup.policy").value()));
        }
    }

    @Test
    void validateOnlyAlterChangesNothing(KafkaTarget target) throws Exception {
        String topic = unique("alter-validate");
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            get(admin.incrementalAlterConfigs(Map.of(resource, List.of(
                    new AlterConfigOp(new ConfigEntry("retention.ms", "999"), AlterConfigOp.OpType.SET))),
                    new AlterConfigsOptions().validateOnly(true)).all());
            assertEquals("604800000", describe(admin, topic).get("retention.ms").value());
        }
    }

    @Test
    void badValuesAndUnknownNamesAreRefused(KafkaTarget target) throws Exception {
        String topic = unique("alter-bad");
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            ExecutionException e = assertThrows(ExecutionException.class, () -> get(admin.incrementalAlterConfigs(
                    Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry("retention.ms", "soon"),
                            AlterConfigOp.OpType.SET)))).all()));
            assertInstanceOf(InvalidConfigurationException.class, e.getCause(), "a non-numeric retention.ms");
            e = assertThrows(ExecutionException.class, () -> get(admin.incrementalAlterConfigs(
                    Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry("no.such.config", "1"),
                            AlterConfigOp.OpType.SET)))).all()));
            assertInstanceOf(InvalidConfigurationException.class, e.getCause(), "an unknown topic config");
            e = assertThrows(ExecutionException.class, () -> get(admin.incrementalAlterConfigs(
                    Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry("max.message.bytes", "10"),
                            AlterConfigOp.OpType.APPEND)))).all()));
            assertInstanceOf(InvalidConfigurationException.class, e.getCause(), "APPEND on a non-list config");
            assertEquals("604800000", describe(admin, topic).get("retention.ms").value());
        }
    }

    @Test
    void brokerConfigsAreDescribedWithKafkasDefaults(KafkaTarget target) throws Exception {
        try (Admin admin = admin(target)) {
            int broker = get(admin.describeCluster().nodes()).iterator().next().id();
            ConfigResource resource = new ConfigResource(ConfigResource.Type.BROKER, String.valueOf(broker));
            Config config = get(admin.describeConfigs(List.of(resource)).all()).get(resource);
            // Kafka's defaults for keys the suite does not set on either target (tools read these to show a
            // broker), plus one the suite sets on both. Compared as one map so a report shows every difference.
            Map<String, String> expected = new java.util.TreeMap<>(Map.of("num.partitions", "1",
                    "log.retention.hours", "168", "message.max.bytes", "1048588",
                    "auto.create.topics.enable", "true", "compression.type", "producer",
                    "group.initial.rebalance.delay.ms", "0"));
            Map<String, String> actual = new java.util.TreeMap<>();
            for (String key : expected.keySet()) {
                ConfigEntry entry = config.get(key);
                actual.put(key, entry == null ? "<missing>" : entry.value());
            }
            assertEquals(expected, actual, "broker " + broker + " configs");
        }
    }

    private static Config describe(Admin admin, String topic) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return get(admin.describeConfigs(List.of(resource)).all()).get(resource);
    }
}
