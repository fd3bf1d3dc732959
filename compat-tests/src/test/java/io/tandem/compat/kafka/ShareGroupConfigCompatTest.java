package io.tandem.compat.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Group-level share configs (ConfigResource GROUP) through the Java Admin 4.4: described with their sources,
 * refused with Kafka's errors and words, kept across a restart, and applied: share.auto.offset.reset=earliest makes a
 * new share group start at the log start, and share.delivery.count.limit archives a record after that many
 * deliveries, seen by the real {@link KafkaShareConsumer} 4.4.
 */
class ShareGroupConfigCompatTest {
    private static final String TOPIC = "tasks", GROUP = "task-workers";
    private static final ConfigResource RESOURCE = new ConfigResource(ConfigResource.Type.GROUP, GROUP);

    @TempDir
    Path dir;

    private TandemConfig config() {
        return KafkaCompat.config(dir).set("share.coordinator.state.topic.num.partitions", "3")
                .set("group.share.min.heartbeat.interval.ms", "500").set("group.share.heartbeat.interval.ms", "1000");
    }

    private static Admin admin(Tandem tandem) {
        Properties p = new Properties();
        p.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        return Admin.create(p);
    }

    private static Map<String, ConfigEntry> describe(Admin admin) throws Exception {
        Config config = admin.describeConfigs(List.of(RESOURCE)).all().get(30, TimeUnit.SECONDS).get(RESOURCE);
        Map<String, ConfigEntry> byName = new java.util.TreeMap<>();
        for (ConfigEntry e : config.entries()) byName.put(e.name(), e);
        return byName;
    }

    private static String refused(Admin admin, String name, String value) throws Exception {
        ExecutionException e = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(Map.of(
                RESOURCE, List.of(new AlterConfigOp(new ConfigEntry(name, value), AlterConfigOp.OpType.SET))))
                .all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidConfigurationException.class, e.getCause(), name + "=" + value);
        return e.getCause().getMessage();
    }

    @Test
    void groupConfigsShouldBeValidatedKeptAndApplied() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            Map<String, ConfigEntry> defaults = describe(admin);
            assertEquals("latest", defaults.get("share.auto.offset.reset").value());
            assertEquals(ConfigEntry.ConfigSource.DEFAULT_CONFIG, defaults.get("share.auto.offset.reset").source());
            assertEquals("1000", defaults.get("share.heartbeat.interval.ms").value());
            assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG,
                    defaults.get("share.heartbeat.interval.ms").source(), "the broker's group.share.* key");
            assertEquals("5", defaults.get("share.delivery.count.limit").value());

            // Kafka 4.4's checks, in its words (the same texts as its GroupConfig.validate).
            assertEquals("Invalid value 500 for configuration share.record.lock.duration.ms: Value must be at least 1000",
                    refused(admin, "share.record.lock.duration.ms", "500"));
            assertEquals("share.session.timeout.ms must be in the range 45000 to 60000 inclusive.",
                    refused(admin, "share.session.timeout.ms", "1000"));
            assertEquals("Invalid value abc for configuration share.delivery.count.limit: Not a number of type INT",
                    refused(admin, "share.delivery.count.limit", "abc"));
            assertEquals("Invalid value soon for configuration share.auto.offset.reset: Invalid value `soon` for "
                    + "configuration share.auto.offset.reset. The value must be either 'earliest', 'latest' or of the "
                    + "format 'by_duration:<PnDTnHnMn.nS>'.", refused(admin, "share.auto.offset.reset", "soon"));
            assertEquals("Unknown group config name: no.such.key", refused(admin, "no.such.key", "1"));
            // What Tandem does not apply is refused, not stored and ignored.
            refused(admin, "share.isolation.level", "read_committed");
            refused(admin, "consumer.assignment.interval.ms", "0");

            admin.incrementalAlterConfigs(Map.of(RESOURCE, List.of(
                    new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"), AlterConfigOp.OpType.SET),
                    new AlterConfigOp(new ConfigEntry("share.delivery.count.limit", "2"), AlterConfigOp.OpType.SET))))
                    .all().get(30, TimeUnit.SECONDS);
            Map<String, ConfigEntry> set = describe(admin);
            assertEquals("earliest", set.get("share.auto.offset.reset").value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_GROUP_CONFIG, set.get("share.auto.offset.reset").source());
            assertEquals("2", set.get("share.delivery.count.limit").value());
        }

        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            // Kept across a restart.
            assertEquals("earliest", describe(admin).get("share.auto.offset.reset").value());
            try (KafkaProducer<String, String> producer = KafkaCompat.producer(tandem, Map.of())) {
                for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>(TOPIC, 0, null, "task-" + i));
                producer.flush();
            }
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            p.put(ConsumerConfig.GROUP_ID_CONFIG, GROUP);
            p.put(ConsumerConfig.SHARE_ACKNOWLEDGEMENT_MODE_CONFIG, "explicit");
            List<String> deliveries = new ArrayList<>();
            try (KafkaShareConsumer<String, String> consumer = new KafkaShareConsumer<>(p, new StringDeserializer(),
                    new StringDeserializer())) {
                consumer.subscribe(List.of(TOPIC));
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                // Records produced before the group existed are delivered (earliest); offset 0 is released each
                // time, so with a delivery count limit of 2 it is archived after its second delivery.
                int accepted = 0;
                while (accepted < 2 || System.nanoTime() < deadline - Duration.ofSeconds(55).toNanos()) {
                    if (System.nanoTime() > deadline) fail("timed out; deliveries " + deliveries);
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        deliveries.add(r.offset() + "#" + r.deliveryCount().orElseThrow());
                        if (r.offset() == 0) {
                            consumer.acknowledge(r, AcknowledgeType.RELEASE);
                        } else {
                            consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                            accepted++;
                        }
                    }
                    consumer.commitSync();
                }
            }
            assertEquals(List.of("0#1", "0#2"), deliveries.stream().filter(d -> d.startsWith("0#")).toList(),
                    "offset 0 delivered twice, then archived at the group's limit; all: " + deliveries);
            assertTrue(deliveries.containsAll(List.of("1#1", "2#1")), deliveries.toString());
        }
    }
}
