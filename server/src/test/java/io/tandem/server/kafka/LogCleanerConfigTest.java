package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.ConfigKeys;
import io.tandem.server.ConfigKeys.Kind;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidRequestException;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The log cleaner's broker keys do what they say (issue 12 leftovers): log.cleaner.threads, log.cleaner.enable and
 * log.cleaner.backoff.ms are applied to the cleaner with Kafka's checks, and the log keys Tandem cannot honour are
 * accepted at Kafka's default only, refused otherwise, never ignored.
 */
class LogCleanerConfigTest {
    @TempDir
    Path dir;

    @Test
    void shouldRunAsManyCleanerThreadsAsConfiguredAndNoneWhenTheCleanerIsDisabled() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(config("log.cleaner.threads", "3"), null)) {
            assertEquals(3, broker.logs().cleanerThreads());
            Set<String> names = Thread.getAllStackTraces().keySet().stream().map(Thread::getName)
                    .collect(java.util.stream.Collectors.toSet());
            assertTrue(names.containsAll(Set.of("kafka-log-cleaner-thread-0", "kafka-log-cleaner-thread-1",
                    "kafka-log-cleaner-thread-2")), names.toString());
        }
        try (KafkaBroker broker = KafkaBroker.start(config("log.cleaner.enable", "false"), null)) {
            assertEquals(0, broker.logs().cleanerThreads());
        }
        try (KafkaBroker broker = KafkaBroker.start(config("log.cleaner.threads", "0"), null)) {
            assertEquals(0, broker.logs().cleanerThreads(), "Kafka accepts 0 cleaner threads: nothing is compacted");
        }
        try (KafkaBroker broker = KafkaBroker.start(config("log.cleaner.backoff.ms", "50"), null)) {
            assertEquals(1, broker.logs().cleanerThreads(), "Kafka's default");
        }
    }

    @Test
    void cleanerThreadsShouldBeResizedAtRuntimeWithinKafkasBoundsAndStayAfterARestart() throws Exception {
        ConfigResource clusterDefault = new ConfigResource(ConfigResource.Type.BROKER, "");
        TandemConfig config = TandemConfig.forTests(dir.resolve("dynamic")).roles(Set.of(TandemConfig.Role.KAFKA));
        try (KafkaBroker broker = KafkaBroker.start(config, null);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + broker.port()))) {
            assertEquals(1, broker.logs().cleanerThreads());
            set(admin, clusterDefault, "log.cleaner.threads", "2");
            assertEquals(2, broker.logs().cleanerThreads(), "replaced as Kafka's LogCleaner.reconfigure does");
            for (String refused : List.of("5", "0")) {
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> set(admin, clusterDefault, "log.cleaner.threads", refused));
                assertInstanceOf(InvalidRequestException.class, e.getCause(), refused);
                assertEquals("Invalid dynamic configuration", e.getCause().getMessage());
            }
            set(admin, new ConfigResource(ConfigResource.Type.BROKER, "0"), "log.cleaner.backoff.ms", "100");
            assertEquals(2, broker.logs().cleanerThreads());
            assertEquals("2", admin.describeConfigs(List.of(clusterDefault)).all().get().get(clusterDefault)
                    .get("log.cleaner.threads").value());
        }
        try (KafkaBroker broker = KafkaBroker.start(config, null)) {
            assertEquals(2, broker.logs().cleanerThreads(), "the stored setting is in force from the start");
        }
    }

    private static void set(Admin admin, ConfigResource resource, String key, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(resource, List.of(new AlterConfigOp(new ConfigEntry(key, value),
                AlterConfigOp.OpType.SET)))).all().get();
    }

    @Test
    void shouldCheckTheCleanerKeysWithKafkasValidators() {
        assertEquals(Kind.IMPLEMENTED, verdict("log.cleaner.threads", "2").kind());
        assertEquals(new ConfigKeys.Verdict(Kind.REFUSED,
                        "Invalid value -1 for configuration log.cleaner.threads: Value must be at least 0"),
                verdict("log.cleaner.threads", "-1"));
        assertEquals(Kind.IMPLEMENTED, verdict("log.cleaner.enable", "false").kind());
        assertEquals(Kind.REFUSED, verdict("log.cleaner.enable", "no").kind());
        assertEquals(Kind.IMPLEMENTED, verdict("log.cleaner.backoff.ms", "0").kind());
        assertEquals(Kind.REFUSED, verdict("log.cleaner.backoff.ms", "-1").kind());
    }

    @Test
    void shouldAcceptTheLogKeysTandemCannotHonourOnlyAtKafkasDefault() {
        Map<String, String[]> keys = Map.of(
                "log.preallocate", new String[] {"false", "true"},
                "log.local.retention.ms", new String[] {"-2", "-1"},
                "log.local.retention.bytes", new String[] {"-2", "1073741824"},
                "log.cleaner.io.max.bytes.per.second", new String[] {"1.7976931348623157E308", "1048576"},
                "log.cleaner.dedupe.buffer.size", new String[] {"134217728", "268435456"},
                "log.cleaner.io.buffer.load.factor", new String[] {"0.9", "0.5"},
                "log.cleaner.io.buffer.size", new String[] {"524288", "1048576"});
        keys.forEach((key, values) -> {
            assertEquals(Kind.IMPLEMENTED, verdict(key, values[0]).kind(), key + "=" + values[0]);
            ConfigKeys.Verdict refused = verdict(key, values[1]);
            assertEquals(Kind.REFUSED, refused.kind(), key + "=" + values[1]);
            assertTrue(refused.reason().contains("only Kafka's default"), refused.reason());
        });
        assertTrue(ConfigKeys.check(Map.of("log.preallocate", "true")).refusals().get(0)
                .contains("segment file preallocation is not implemented"));
    }

    @Test
    void shouldApplyTheBrokerMaxCompactionLagToTopicsWithKafkasBounds() {
        assertEquals(Kind.IMPLEMENTED, verdict("log.cleaner.max.compaction.lag.ms", "3600000").kind());
        assertEquals(new ConfigKeys.Verdict(Kind.REFUSED, "Invalid value 0 for configuration "
                + "log.cleaner.max.compaction.lag.ms: Value must be at least 1"),
                verdict("log.cleaner.max.compaction.lag.ms", "0"));
        assertTrue(BrokerConfigKeys.DYNAMIC.contains("log.cleaner.max.compaction.lag.ms"), "cluster-wide in Kafka");
        TopicConfigs topics = new TopicConfigs(TandemConfig.forTests(dir).set("log.cleaner.max.compaction.lag.ms",
                "3600000"));
        assertEquals(3_600_000, topics.logConfig(Map.of("cleanup.policy", "compact")).maxCompactionLagMs());
        assertEquals(3_600_000, topics.logConfig(Map.of("cleanup.policy", "compact")).maxSegmentMs(),
                "a compacted log's active segment rolls by the lag");
        assertEquals(60_000, topics.logConfig(Map.of("max.compaction.lag.ms", "60000")).maxCompactionLagMs());
    }

    @Test
    void aMinCompactionLagAboveTheMaxShouldBeRefusedAsKafkaRefusesIt() throws Exception {
        try (KafkaBroker broker = KafkaBroker.start(config("log.cleaner.max.compaction.lag.ms", "60000"), null);
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     "127.0.0.1:" + broker.port()))) {
            ExecutionException e = assertThrows(ExecutionException.class, () -> admin.createTopics(List.of(
                    new org.apache.kafka.clients.admin.NewTopic("lagging", 1, (short) 1).configs(Map.of(
                            "cleanup.policy", "compact", "min.compaction.lag.ms", "120000")))).all().get());
            assertInstanceOf(org.apache.kafka.common.errors.InvalidConfigurationException.class, e.getCause());
            assertEquals("conflict topic config setting min.compaction.lag.ms (120000) > max.compaction.lag.ms "
                    + "(60000)", e.getCause().getMessage(), "checked against the broker's default of the max");
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic("lagging", 1, (short) 1)
                    .configs(Map.of("cleanup.policy", "compact", "min.compaction.lag.ms", "1000")))).all().get();
            ConfigResource topic = new ConfigResource(ConfigResource.Type.TOPIC, "lagging");
            e = assertThrows(ExecutionException.class, () -> set(admin, topic, "max.compaction.lag.ms", "999"));
            assertEquals("conflict topic config setting min.compaction.lag.ms (1000) > max.compaction.lag.ms (999)",
                    e.getCause().getMessage());
            set(admin, topic, "max.compaction.lag.ms", "1000");
        }
    }

    @Test
    void shouldHonourTheRemainingLogKeysAsKafka39DoesInZooKeeperMode() {
        assertEquals(Kind.IMPLEMENTED, verdict("log.initial.task.delay.ms", "0").kind());
        assertEquals(Kind.REFUSED, verdict("log.initial.task.delay.ms", "-1").kind());
        assertTrue(!BrokerConfigKeys.describedByKafka39("log.initial.task.delay.ms"), "internal in Kafka 3.9");
        assertEquals(Kind.IMPLEMENTED, verdict("log.dir.failure.timeout.ms", "1").kind());
        assertEquals(new ConfigKeys.Verdict(Kind.REFUSED, "Invalid value 0 for configuration "
                + "log.dir.failure.timeout.ms: Value must be at least 1"), verdict("log.dir.failure.timeout.ms", "0"));
        assertEquals(Kind.IMPLEMENTED, verdict("log.message.format.version", "2.8").kind());
        assertEquals(Kind.IMPLEMENTED, verdict("log.message.format.version", "3.0-IV1").kind());
        assertEquals(new ConfigKeys.Verdict(Kind.REFUSED, "Invalid value abc for configuration "
                + "log.message.format.version: Version abc is not a valid version"),
                verdict("log.message.format.version", "abc"));
        for (String key : List.of("log.initial.task.delay.ms", "log.dir.failure.timeout.ms",
                "log.message.format.version")) {
            assertTrue(ConfigKeys.check(Map.of(key, key.equals("log.message.format.version") ? "2.8" : "5"))
                    .warnings().isEmpty(), key + " is no longer warned about as ignored");
        }
    }

    @Test
    void shouldAcceptTheLogStartCheckpointIntervalOnlyWhereTheRecoveryPointsAreWritten() {
        String key = "log.flush.start.offset.checkpoint.interval.ms";
        assertEquals(Kind.IMPLEMENTED, verdict(key, "60000").kind());
        assertEquals(Kind.REFUSED, verdict(key, "10000").kind());
        assertEquals(Kind.IMPLEMENTED, ConfigKeys.verdict(key, "10000",
                Map.of("log.flush.offset.checkpoint.interval.ms", "10000")).kind());
    }

    @Test
    void shouldHonourTheBrokerDefaultsOfTopicKeysTopicConfigsReads() {
        // TopicConfigs takes these as the broker default of message.downconversion.enable and
        // message.timestamp.difference.max.ms: in force, so not reported as ignored.
        assertEquals(Kind.IMPLEMENTED, verdict("log.message.downconversion.enable", "false").kind());
        assertEquals(Kind.IMPLEMENTED, verdict("log.message.timestamp.difference.max.ms", "60000").kind());
        assertEquals(Kind.REFUSED, verdict("log.message.timestamp.difference.max.ms", "-1").kind());
        assertEquals("false", new TopicConfigs(TandemConfig.forTests(dir).set("log.message.downconversion.enable",
                "false")).brokerDefault(TopicConfigs.KEYS.get("message.downconversion.enable")).value());
    }

    private static ConfigKeys.Verdict verdict(String key, String value) {
        return ConfigKeys.verdict(key, value, Map.of());
    }

    private TandemConfig config(String key, String value) {
        return TandemConfig.forTests(dir.resolve(key + "-" + value)).roles(Set.of(TandemConfig.Role.KAFKA))
                .set(key, value);
    }
}
