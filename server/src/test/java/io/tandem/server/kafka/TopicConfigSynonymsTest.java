package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ConfigEntry.ConfigSource;
import org.apache.kafka.clients.admin.DescribeConfigsOptions;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.*;

/**
 * DescribeConfigs(TOPIC) synonyms as Kafka's ConfigHelper.createTopicConfigEntry builds them: the topic's override,
 * then every synonym of the broker key (log.retention.ms, .minutes, .hours) set dynamically per broker, as a cluster
 * default, statically, then Kafka's non-null defaults, less the leading ones not named by the broker key; the entry's
 * source is the first synonym's. Checked against Apache Kafka 3.9.1 by ApacheResponseDifferentialTest's synonym steps.
 */
class TopicConfigSynonymsTest {
    @TempDir
    Path dir;

    @Test
    void synonymsFollowKafkasOrderAndDropTheLeadingOnesNotNamedByTheBrokerKey() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir).set("log.retention.hours", "24")
                .set("log.roll.ms", "3600000"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     tandem.bootstrapServers()))) {
            admin.createTopics(List.of(new NewTopic("plain", 1, (short) 1),
                    new NewTopic("overridden", 1, (short) 1).configs(Map.of("retention.ms", "3600000")))).all().get();

            // (c) Static log.retention.hours alone: in force, but dropped (not named log.retention.ms), so the entry
            // says DEFAULT_CONFIG with no synonym, as Kafka answers.
            Config plain = describe(admin, "plain", true);
            assertEntry(plain.get("retention.ms"), "86400000", ConfigSource.DEFAULT_CONFIG);
            assertTrue(plain.get("retention.ms").isDefault());
            // (a) No override, nothing set: Kafka's log.roll.jitter.hours default is no synonym of log.roll.jitter.ms,
            // log.flush.scheduler.interval.ms's none of log.flush.interval.ms; a key without a broker key has none.
            assertEntry(plain.get("segment.jitter.ms"), "0", ConfigSource.DEFAULT_CONFIG);
            assertEntry(plain.get("flush.ms"), "9223372036854775807", ConfigSource.DEFAULT_CONFIG);
            assertEntry(plain.get("remote.storage.enable"), "false", ConfigSource.DEFAULT_CONFIG);
            assertEntry(plain.get("retention.bytes"), "-1", ConfigSource.DEFAULT_CONFIG,
                    "DEFAULT_CONFIG:log.retention.bytes=-1");
            // A static log.roll.ms leads, Kafka's log.roll.hours default follows as set (hours, not milliseconds).
            assertEntry(plain.get("segment.ms"), "3600000", ConfigSource.STATIC_BROKER_CONFIG,
                    "STATIC_BROKER_CONFIG:log.roll.ms=3600000", "DEFAULT_CONFIG:log.roll.hours=168");
            // (b) A topic override, alone ahead of the (dropped) broker synonyms.
            assertEntry(describe(admin, "overridden", true).get("retention.ms"), "3600000",
                    ConfigSource.DYNAMIC_TOPIC_CONFIG,
                    "DYNAMIC_TOPIC_CONFIG:retention.ms=3600000");

            // (d) A dynamic cluster default of log.retention.ms keeps the static and default hours behind it.
            ConfigResource clusterDefault = new ConfigResource(ConfigResource.Type.BROKER, "");
            alter(admin, clusterDefault, "log.retention.ms", "7200000");
            assertEntry(describe(admin, "plain", true).get("retention.ms"), "7200000",
                    ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
                    "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000",
                    "STATIC_BROKER_CONFIG:log.retention.hours=24", "DEFAULT_CONFIG:log.retention.hours=168");
            // The entry's source does not depend on asking for synonyms.
            assertEquals(ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
                    describe(admin, "plain", false).get("retention.ms").source());

            // This broker's own setting first, then the cluster default; an override ahead of both.
            ConfigResource broker = new ConfigResource(ConfigResource.Type.BROKER, "0");
            alter(admin, broker, "log.retention.ms", "1800000");
            assertEntry(describe(admin, "plain", true).get("retention.ms"), "1800000",
                    ConfigSource.DYNAMIC_BROKER_CONFIG, "DYNAMIC_BROKER_CONFIG:log.retention.ms=1800000",
                    "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000",
                    "STATIC_BROKER_CONFIG:log.retention.hours=24", "DEFAULT_CONFIG:log.retention.hours=168");
            assertEntry(describe(admin, "overridden", true).get("retention.ms"), "3600000",
                    ConfigSource.DYNAMIC_TOPIC_CONFIG,
                    "DYNAMIC_TOPIC_CONFIG:retention.ms=3600000", "DYNAMIC_BROKER_CONFIG:log.retention.ms=1800000",
                    "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000",
                    "STATIC_BROKER_CONFIG:log.retention.hours=24", "DEFAULT_CONFIG:log.retention.hours=168");

            // The cluster-default resource lists only cluster defaults among a key's synonyms, as Kafka filters them.
            ConfigEntry defaultEntry = admin.describeConfigs(List.of(clusterDefault),
                    new DescribeConfigsOptions().includeSynonyms(true)).all().get().get(clusterDefault)
                    .get("log.retention.ms");
            assertEntry(defaultEntry, "7200000", ConfigSource.DYNAMIC_DEFAULT_BROKER_CONFIG,
                    "DYNAMIC_DEFAULT_BROKER_CONFIG:log.retention.ms=7200000");
        }
    }

    private static Config describe(Admin admin, String topic, boolean synonyms) throws Exception {
        ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, topic);
        return admin.describeConfigs(List.of(resource), new DescribeConfigsOptions().includeSynonyms(synonyms))
                .all().get().get(resource);
    }

    private static void alter(Admin admin, ConfigResource resource, String name, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry(name, value),
                AlterConfigOp.OpType.SET)))).all().get();
    }

    private static void assertEntry(ConfigEntry entry, String value, ConfigSource source, String... synonyms) {
        assertEquals(value, entry.value(), entry.name());
        assertEquals(source, entry.source(), entry.name());
        assertEquals(List.of(synonyms), entry.synonyms().stream()
                .map(s -> s.source() + ":" + s.name() + "=" + s.value()).toList(), entry.name());
    }
}
