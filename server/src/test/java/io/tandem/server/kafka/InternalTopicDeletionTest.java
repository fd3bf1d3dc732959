package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.ListTopicsOptions;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.message.HeartbeatRequestData;
import org.apache.kafka.common.message.OffsetFetchRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.HeartbeatRequest;
import org.apache.kafka.common.requests.HeartbeatResponse;
import org.apache.kafka.common.requests.OffsetFetchRequest;
import org.apache.kafka.common.requests.OffsetFetchResponse;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * Kafka 3.9 in ZooKeeper mode deletes its internal topics when asked (DeleteTopics has no check for them): the
 * coordinators unload the partitions they lose (Kafka's onResignation on the StopReplica), and the next
 * FindCoordinator makes the topic again, empty. With the real Java clients: a consumer group's committed offset is
 * gone after {@code __consumer_offsets} is deleted, requests for the group answer NOT_COORDINATOR until the topic is
 * made again, and the group works again then (it reads from the start and commits);
 * a transactional id works again after {@code __transaction_state} is deleted.
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class InternalTopicDeletionTest {
    private static final long WAIT_MS = 60_000;
    private static final String TOPIC = "events";

    @TempDir
    Path dir;

    @Test
    void deletingTheOffsetsTopicUnloadsItsGroupsAndGroupsWorkAgainOnTheTopicMadeAgain() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir));
             Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(TOPIC, 1, (short) 1))).all()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS);
            try (KafkaProducer<String, String> producer = KafkaBrokerEndToEndTest.producer(tandem)) {
                for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>(TOPIC, "v" + i)).get(WAIT_MS, TimeUnit.MILLISECONDS);
            }
            TopicPartition tp = new TopicPartition(TOPIC, 0);
            try (KafkaConsumer<String, String> consumer = KafkaBrokerEndToEndTest.consumer(tandem, "g1")) {
                consumer.subscribe(List.of(TOPIC));
                assertEquals(3, pollAll(consumer, 3).size());
                consumer.commitSync(Duration.ofMillis(WAIT_MS));
            }
            assertEquals(3, admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS).get(tp).offset());

            admin.deleteTopics(List.of("__consumer_offsets")).all().get(WAIT_MS, TimeUnit.MILLISECONDS);

            // Until the topic is made again, requests for the group answer NOT_COORDINATOR, as Kafka's coordinator
            // answers for a partition it unloaded (its StopReplica may come a moment after the DeleteTopics answer).
            try (OfficialClientConnection raw = new OfficialClientConnection(tandem.kafkaPort())) {
                short fetchError = Errors.NONE.code();
                long deadline = System.currentTimeMillis() + WAIT_MS;
                while (fetchError == Errors.NONE.code() && System.currentTimeMillis() < deadline) {
                    OffsetFetchResponse fetched = raw.call(OffsetFetchRequest.Builder.forTopicNames(
                            new OffsetFetchRequestData().setGroups(List.of(
                                    new OffsetFetchRequestData.OffsetFetchRequestGroup().setGroupId("g1")
                                            .setTopics(null))), false).build((short) 8));
                    fetchError = fetched.data().groups().get(0).errorCode();
                    if (fetchError == Errors.NONE.code()) Thread.sleep(20);
                }
                assertEquals(Errors.NOT_COORDINATOR.code(), fetchError, "OffsetFetch of g1");
                HeartbeatResponse heartbeat = raw.call(new HeartbeatRequest.Builder(new HeartbeatRequestData()
                        .setGroupId("g1").setMemberId("gone").setGenerationId(1)).build((short) 4));
                assertEquals(Errors.NOT_COORDINATOR.code(), heartbeat.data().errorCode(), "Heartbeat of g1");
            }

            // The group's offsets went with the topic: a member of g1 reads from the start, as a new group does,
            // once the topic is made again (its FindCoordinator does it), and its commit lands there.
            try (KafkaConsumer<String, String> consumer = KafkaBrokerEndToEndTest.consumer(tandem, "g1")) {
                consumer.subscribe(List.of(TOPIC));
                List<ConsumerRecord<String, String>> again = pollAll(consumer, 3);
                assertEquals(List.of("v0", "v1", "v2"), again.stream().map(ConsumerRecord::value).toList(),
                        "g1 starts over: its committed offset was in the deleted topic");
                consumer.commitSync(Map.of(tp, new OffsetAndMetadata(2)), Duration.ofMillis(WAIT_MS));
            }
            assertEquals(2, admin.listConsumerGroupOffsets("g1").partitionsToOffsetAndMetadata()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS).get(tp).offset());
            assertTrue(admin.listTopics(new ListTopicsOptions().listInternal(true)).names()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS).contains("__consumer_offsets"), "made again");
        }
    }

    @Test
    void aTransactionalIdWorksAgainAfterTheTransactionStateTopicIsDeleted() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir)
                .set("transaction.state.log.num.partitions", "3"));
             Admin admin = admin(tandem)) {
            admin.createTopics(List.of(new org.apache.kafka.clients.admin.NewTopic(TOPIC, 1, (short) 1))).all()
                    .get(WAIT_MS, TimeUnit.MILLISECONDS);
            try (KafkaProducer<String, String> producer = transactional(tandem)) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, "first"));
                producer.commitTransaction();
            }

            admin.deleteTopics(List.of("__transaction_state")).all().get(WAIT_MS, TimeUnit.MILLISECONDS);

            try (KafkaProducer<String, String> producer = transactional(tandem)) {
                producer.initTransactions();
                producer.beginTransaction();
                producer.send(new ProducerRecord<>(TOPIC, "second"));
                producer.commitTransaction();
            }
            Properties p = new Properties();
            p.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            p.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, IsolationLevel.READ_COMMITTED.toString().toLowerCase());
            try (KafkaConsumer<String, String> consumer = new KafkaConsumer<>(p, new StringDeserializer(),
                    new StringDeserializer())) {
                TopicPartition tp = new TopicPartition(TOPIC, 0);
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                assertEquals(List.of("first", "second"), pollAll(consumer, 2).stream().map(ConsumerRecord::value)
                        .toList(), "both transactions committed");
            }
        }
    }

    private static KafkaProducer<String, String> transactional(Tandem tandem) {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        p.put(ProducerConfig.TRANSACTIONAL_ID_CONFIG, "tx");
        p.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, Long.toString(WAIT_MS));
        return new KafkaProducer<>(p, new StringSerializer(), new StringSerializer());
    }

    private static List<ConsumerRecord<String, String>> pollAll(KafkaConsumer<String, String> consumer, int count) {
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (records.size() < count && System.currentTimeMillis() < deadline) {
            consumer.poll(Duration.ofMillis(200)).forEach(records::add);
        }
        return records;
    }

    private static Admin admin(Tandem tandem) {
        return Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers(),
                AdminClientConfig.DEFAULT_API_TIMEOUT_MS_CONFIG, (int) WAIT_MS));
    }
}
