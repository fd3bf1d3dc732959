package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.message.ShareGroupHeartbeatResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ShareGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ShareGroupHeartbeatResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A ShareGroupHeartbeat is answered before its share-partitions are initialized, as Kafka 4.4's
 * GroupCoordinatorService.shareGroupHeartbeat answers once the group's own records are written and runs
 * persisterInitialize (InitializeShareGroupState, after looking the share coordinator up, which creates
 * {@code __share_group_state}) in a timer task; the target assignment holds only initialized share-partitions, so a
 * later heartbeat assigns them. Tandem used to answer only once the share coordinator had (or had given up, about
 * 30 s later).
 */
class ShareGroupHeartbeatAnswersFirstTest {
    /** Far above an answer that waits for nothing; far below the share coordinator calls' retries (~30 s). */
    private static final long ANSWER_MS_MAX = 10_000;

    @TempDir
    Path dir;

    private static ShareGroupHeartbeatResponseData heartbeat(OfficialClientConnection c, String member, int epoch,
                                                             List<String> topics) throws Exception {
        ShareGroupHeartbeatResponse r = c.call(new ShareGroupHeartbeatRequest.Builder(
                new ShareGroupHeartbeatRequestData().setGroupId("g").setMemberId(member).setMemberEpoch(epoch)
                        .setSubscribedTopicNames(topics)).build((short) 1));
        return r.data();
    }

    private static boolean stateTopicExists(Admin admin) throws Exception {
        return admin.listTopics(new ListTopicsOptions().listInternal(true)).names().get(30, TimeUnit.SECONDS)
                .contains("__share_group_state");
    }

    @Test
    void aHeartbeatShouldBeAnsweredWhileTheShareStateTopicCannotBeMade() throws Exception {
        // Three copies of __share_group_state on one broker: the share coordinator's topic cannot be created, so no
        // share-partition can be initialized (Kafka's persister keeps looking the coordinator up meanwhile).
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1")
                .set("share.coordinator.state.topic.replication.factor", "3"));
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     tandem.bootstrapServers()))) {
            TestTopics.createWithOneReplica(tandem.bootstrapServers(), "queue");
            GroupCoordinators.await(c, "g");

            long start = System.nanoTime();
            ShareGroupHeartbeatResponseData joined = heartbeat(c, "m1", 0, List.of("queue"));
            long answerMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            System.out.println("first heartbeat answered in " + answerMs + " ms");
            assertEquals(Errors.NONE.code(), joined.errorCode(), joined.errorMessage());
            assertEquals(2, joined.memberEpoch());
            assertEquals(List.of(), joined.assignment().topicPartitions(), "nothing initialized, nothing assigned");
            assertTrue(answerMs < ANSWER_MS_MAX, "the heartbeat waited " + answerMs + " ms for the share coordinator");
            assertFalse(stateTopicExists(admin));

            start = System.nanoTime();
            ShareGroupHeartbeatResponseData next = heartbeat(c, "m1", 2, null);
            answerMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
            assertEquals(Errors.NONE.code(), next.errorCode());
            assertEquals(2, next.memberEpoch());
            assertNull(next.assignment(), "still nothing initialized, nothing to tell");
            assertTrue(answerMs < ANSWER_MS_MAX, "the heartbeat waited " + answerMs + " ms");
        }
    }

    @Test
    void theFirstHeartbeatShouldNotWaitForTheShareStateAndAShareConsumerShouldStillConsume() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1"));
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                     tandem.bootstrapServers()))) {
            Uuid topicId = TestTopics.createWithOneReplica(tandem.bootstrapServers(), "queue");
            GroupCoordinators.await(c, "g");
            assertFalse(stateTopicExists(admin), "made by the first share group heartbeat, not before");

            // The raw join: answered with an empty assignment, its share-partition initialized after the answer.
            long start = System.nanoTime();
            ShareGroupHeartbeatResponseData joined = heartbeat(c, "raw", 0, List.of("queue"));
            System.out.println("first heartbeat answered in "
                    + TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start) + " ms");
            assertEquals(Errors.NONE.code(), joined.errorCode(), joined.errorMessage());
            assertEquals(List.of(), joined.assignment().topicPartitions());
            // Once the share coordinator has initialized it, a later heartbeat is assigned it, at a new epoch.
            int epoch = joined.memberEpoch();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            while (true) {
                ShareGroupHeartbeatResponseData hb = heartbeat(c, "raw", epoch, null);
                assertEquals(Errors.NONE.code(), hb.errorCode(), hb.errorMessage());
                if (hb.assignment() != null && !hb.assignment().topicPartitions().isEmpty()) {
                    assertEquals(epoch + 1, hb.memberEpoch());
                    assertEquals(topicId, hb.assignment().topicPartitions().get(0).topicId());
                    break;
                }
                assertTrue(System.nanoTime() < deadline, "the share-partition was never assigned");
                Thread.sleep(50);
            }
            // The share coordinator wrote the state, so its broker leads the topic's partitions; the metadata a
            // listTopics reads may lag that by an UpdateMetadata, as Kafka's controller sends it after LeaderAndIsr.
            long listed = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (!stateTopicExists(admin)) {
                assertTrue(System.nanoTime() < listed, "__share_group_state was never listed");
                Thread.sleep(50);
            }
            heartbeat(c, "raw", -1, null);

            // The Java 4.4 share consumer: the group's share-partition has state already (start offset -1: latest,
            // decided at its first fetch), so it reads what is produced once it is assigned.
            Properties cp = new Properties();
            cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            cp.put(ConsumerConfig.GROUP_ID_CONFIG, "g");
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            try (KafkaShareConsumer<String, String> consumer = new KafkaShareConsumer<>(cp, new StringDeserializer(),
                    new StringDeserializer());
                 KafkaProducer<String, String> producer = new KafkaProducer<>(pp, new StringSerializer(),
                         new StringSerializer())) {
                consumer.subscribe(List.of("queue"));
                Set<String> seen = new HashSet<>();
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
                int sent = 0;
                while (seen.size() < 5) {
                    assertTrue(System.nanoTime() < deadline, "consumed only " + seen);
                    // Produced again and again until it is assigned: records produced before its first fetch
                    // are behind latest.
                    producer.send(new ProducerRecord<>("queue", 0, null, "v" + sent++)).get();
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) seen.add(r.value());
                }
            }
        }
    }
}
