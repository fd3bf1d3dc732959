package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.Metric;
import org.apache.kafka.common.MetricName;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.errors.InvalidConfigurationException;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ConsumerGroupHeartbeatResponseData;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ConsumerGroupHeartbeatResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A consumer group's own session timeout and heartbeat interval (ConfigResource GROUP, Kafka 4.4's
 * consumer.session.timeout.ms and consumer.heartbeat.interval.ms) through Kafka's Admin 4.4 and on the wire: described
 * with their sources, refused in Kafka's words outside the broker's bounds, and carried by the group's
 * ConsumerGroupHeartbeat answers, which a Java 4.4 consumer with {@code group.protocol=consumer} follows.
 */
class ConsumerGroupConfigsTest {
    private static final String TOPIC = "events";

    @TempDir
    Path dir;

    private TandemConfig config() {
        return TandemConfig.forTests(dir).set("offsets.topic.num.partitions", "1")
                .set("group.consumer.min.heartbeat.interval.ms", "100")
                .set("group.consumer.heartbeat.interval.ms", "300")
                .set("group.consumer.min.session.timeout.ms", "1000")
                .set("group.consumer.session.timeout.ms", "6000");
    }

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
    }

    private static ConfigResource group(String id) {
        return new ConfigResource(ConfigResource.Type.GROUP, id);
    }

    private static void set(Admin admin, String groupId, String name, String value) throws Exception {
        admin.incrementalAlterConfigs(Map.of(group(groupId), List.of(new AlterConfigOp(new ConfigEntry(name, value),
                AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
    }

    private static String refused(Admin admin, Map<String, String> entries) {
        List<AlterConfigOp> ops = entries.entrySet().stream().map(e -> new AlterConfigOp(
                new ConfigEntry(e.getKey(), e.getValue()), AlterConfigOp.OpType.SET)).toList();
        ExecutionException e = assertThrows(ExecutionException.class, () -> admin.incrementalAlterConfigs(
                Map.of(group("slow"), ops)).all().get(30, TimeUnit.SECONDS));
        assertInstanceOf(InvalidConfigurationException.class, e.getCause(), entries.toString());
        return e.getCause().getMessage();
    }

    private static ConfigEntry describe(Admin admin, String groupId, String name) throws Exception {
        return admin.describeConfigs(List.of(group(groupId))).all().get(30, TimeUnit.SECONDS).get(group(groupId))
                .get(name);
    }

    private static ConsumerGroupHeartbeatResponseData join(OfficialClientConnection c, String groupId)
            throws Exception {
        ConsumerGroupHeartbeatResponse r = c.call(new ConsumerGroupHeartbeatRequest.Builder(
                new ConsumerGroupHeartbeatRequestData().setGroupId(groupId).setMemberId(
                        org.apache.kafka.common.Uuid.randomUuid().toString()).setMemberEpoch(0)
                        .setRebalanceTimeoutMs(30_000).setSubscribedTopicNames(List.of(TOPIC))
                        .setTopicPartitions(List.of())).build((short) 1));
        return r.data();
    }

    @Test
    void groupConfigsShouldBeDescribedValidatedAndCarriedByTheGroupsHeartbeatAnswers() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem);
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            GroupCoordinators.await(c, "slow");
            ConfigEntry session = describe(admin, "slow", "consumer.session.timeout.ms");
            assertEquals("6000", session.value());
            assertEquals(ConfigEntry.ConfigSource.STATIC_BROKER_CONFIG, session.source(),
                    "the broker's group.consumer.session.timeout.ms");
            assertEquals("300", describe(admin, "slow", "consumer.heartbeat.interval.ms").value());

            // Kafka 4.4's GroupConfig.validate, in its words.
            assertEquals("consumer.heartbeat.interval.ms must be in the range 100 to 15000 inclusive.",
                    refused(admin, Map.of("consumer.heartbeat.interval.ms", "20000")));
            assertEquals("consumer.session.timeout.ms must be in the range 1000 to 60000 inclusive.",
                    refused(admin, Map.of("consumer.session.timeout.ms", "999")));
            assertEquals("consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms",
                    refused(admin, Map.of("consumer.session.timeout.ms", "2000", "consumer.heartbeat.interval.ms",
                            "2000")));
            assertEquals("consumer.session.timeout.ms must be greater than consumer.heartbeat.interval.ms",
                    refused(admin, Map.of("consumer.heartbeat.interval.ms", "6000")),
                    "the broker's session timeout stands in for the one not set");

            set(admin, "slow", "consumer.heartbeat.interval.ms", "2500");
            ConfigEntry heartbeat = describe(admin, "slow", "consumer.heartbeat.interval.ms");
            assertEquals("2500", heartbeat.value());
            assertEquals(ConfigEntry.ConfigSource.DYNAMIC_GROUP_CONFIG, heartbeat.source());

            ConsumerGroupHeartbeatResponseData slow = join(c, "slow");
            assertEquals(0, slow.errorCode(), slow.toString());
            assertEquals(2500, slow.heartbeatIntervalMs(), "the group's own interval");
            assertEquals(300, join(c, "fast").heartbeatIntervalMs(), "another group keeps the broker's");
        }
    }

    private static KafkaConsumer<String, String> consumer(Tandem tandem, String groupId) {
        Properties p = new Properties();
        p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ConsumerConfig.GROUP_ID_CONFIG, groupId);
        p.put(ConsumerConfig.GROUP_PROTOCOL_CONFIG, "consumer");
        p.put(ConsumerConfig.ENABLE_AUTO_COMMIT_CONFIG, "false");
        return new KafkaConsumer<>(p, new StringDeserializer(), new StringDeserializer());
    }

    /** The consumer's own count of the heartbeats it sent (its coordinator metrics' heartbeat-total). */
    private static double heartbeats(KafkaConsumer<String, String> consumer) {
        for (Map.Entry<MetricName, ? extends Metric> e : consumer.metrics().entrySet()) {
            if (e.getKey().name().equals("heartbeat-total")) return (Double) e.getValue().metricValue();
        }
        throw new AssertionError("no heartbeat-total metric");
    }

    @Test
    void aJavaConsumerShouldHeartbeatAtItsGroupsInterval() throws Exception {
        try (Tandem tandem = Tandem.start(config()); Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 2, (short) 1))).all().get(30, TimeUnit.SECONDS);
            set(admin, "slow", "consumer.heartbeat.interval.ms", "3000");
            try (KafkaConsumer<String, String> slow = consumer(tandem, "slow");
                 KafkaConsumer<String, String> fast = consumer(tandem, "fast")) {
                slow.subscribe(List.of(TOPIC));
                fast.subscribe(List.of(TOPIC));
                long deadline = System.currentTimeMillis() + 60_000;
                while (slow.assignment().size() < 2 || fast.assignment().size() < 2) {
                    assertTrue(System.currentTimeMillis() < deadline, "both consumers get their partitions");
                    slow.poll(Duration.ofMillis(100));
                    fast.poll(Duration.ofMillis(100));
                }
                double slowBefore = heartbeats(slow);
                double fastBefore = heartbeats(fast);
                long end = System.currentTimeMillis() + 7_500;
                while (System.currentTimeMillis() < end) {
                    slow.poll(Duration.ofMillis(100));
                    fast.poll(Duration.ofMillis(100));
                }
                double slowSent = heartbeats(slow) - slowBefore;
                double fastSent = heartbeats(fast) - fastBefore;
                // 7.5 s at 3 s is 2 or 3 heartbeats (a little slack for one the client sends of its own accord);
                // at the broker's 300 ms it is some 25.
                assertTrue(slowSent <= 4, "the slow group's consumer sent " + slowSent);
                assertTrue(fastSent >= 8, "the other group's consumer sent " + fastSent);
            }
        }
    }
}
