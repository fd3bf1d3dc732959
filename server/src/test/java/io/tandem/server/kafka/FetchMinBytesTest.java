package io.tandem.server.kafka;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.server.Tandem;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecords;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.*;

/**
 * fetch.min.bytes over several partitions, as the Java consumer uses it: a long poll answers as soon as the
 * partitions together hold min.bytes, not when the first of them holds anything, and not later than max.wait.ms.
 */
@ExtendWith(NoBufferLeaks.class)
class FetchMinBytesTest {
    private static final int MIN_BYTES = 50_000;
    private static final int MAX_WAIT_MS = 2_000;

    @TempDir
    Path dir;

    @Test
    void aLongPollWaitsForMinBytesAcrossPartitionsAndAnswersOnceTheyAreThere() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("waits", 2, (short) 1))).all().get();
            }
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            Properties cp = new Properties();
            cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            cp.put(ConsumerConfig.FETCH_MIN_BYTES_CONFIG, String.valueOf(MIN_BYTES));
            cp.put(ConsumerConfig.FETCH_MAX_WAIT_MS_CONFIG, String.valueOf(MAX_WAIT_MS));
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer());
                 KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> tps = List.of(new TopicPartition("waits", 0), new TopicPartition("waits", 1));
                consumer.assign(tps);
                consumer.seekToBeginning(tps);
                consumer.poll(Duration.ZERO); // positions looked up, the first fetch sent
                // Less than min.bytes in one partition: the answer waits for max.wait.ms.
                producer.send(new ProducerRecord<>("waits", 0, null, new byte[100])).get();
                long start = System.nanoTime();
                int received = pollUntilRecords(consumer, 10_000);
                long waitedMs = (System.nanoTime() - start) / 1_000_000;
                assertEquals(1, received);
                assertTrue(waitedMs >= MAX_WAIT_MS / 2, "answered after " + waitedMs + " ms with 100 of "
                        + MIN_BYTES + " bytes");

                // min.bytes reached only by both partitions together: answered well before max.wait.ms.
                consumer.poll(Duration.ZERO); // the next long poll is parked
                long sent = System.nanoTime();
                for (int p = 0; p < 2; p++) {
                    producer.send(new ProducerRecord<>("waits", p, null, new byte[MIN_BYTES / 2 + 100]));
                }
                producer.flush();
                received = pollUntilRecords(consumer, 10_000);
                long answeredMs = (System.nanoTime() - sent) / 1_000_000;
                assertTrue(received >= 1, "no records");
                assertTrue(answeredMs < MAX_WAIT_MS, "answered after " + answeredMs + " ms with min.bytes there");
            }
        }
    }

    /**
     * A long poll parked on a partition that is then deleted is answered at once with UNKNOWN_TOPIC_OR_PARTITION, as
     * Kafka's stopReplicas completes delayed fetches. It used to wait for its max wait and then fail on the timer
     * thread reading the deleted log, never answered: the connection stayed muted and the request frame leaked.
     */
    @Test
    void aLongPollOnAPartitionDeletedMeanwhileIsAnsweredWithUnknownTopic() throws Exception {
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()));
             RawKafkaConnection raw = new RawKafkaConnection(tandem.kafkaPort())) {
            admin.createTopics(List.of(new NewTopic("doomed", 1, (short) 1))).all().get();
            FetchRequest fetch = new FetchRequest();
            fetch.replicaId = -1;
            fetch.maxWaitMs = 60_000;
            fetch.minBytes = 1;
            FetchRequest.FetchTopic topic = new FetchRequest.FetchTopic();
            topic.topic = "doomed";
            FetchRequest.FetchPartition partition = new FetchRequest.FetchPartition();
            partition.partition = 0;
            partition.partitionMaxBytes = 1 << 20;
            topic.partitions.add(partition);
            fetch.topics.add(topic);
            int id = raw.send(ApiKey.FETCH, (short) 11, fetch);
            Thread.sleep(300); // parked: the log is empty and min bytes is 1
            long deleted = System.nanoTime();
            admin.deleteTopics(List.of("doomed")).all().get();
            raw.socket.setSoTimeout(30_000);
            FetchResponse answer = raw.receive(id, (short) 0, (short) 11, FetchResponse::read);
            long answeredMs = (System.nanoTime() - deleted) / 1_000_000;
            assertTrue(answeredMs < 30_000, "answered " + answeredMs + " ms after the deletion");
            assertEquals(ErrorCodes.UNKNOWN_TOPIC_OR_PARTITION,
                    answer.responses.get(0).partitions.get(0).errorCode);
            assertNotNull(raw.apiVersions(), "the connection serves the next request");
        }
    }

    private static int pollUntilRecords(KafkaConsumer<byte[], byte[]> consumer, long timeoutMs) {
        long deadline = System.currentTimeMillis() + timeoutMs;
        while (System.currentTimeMillis() < deadline) {
            ConsumerRecords<byte[], byte[]> records = consumer.poll(Duration.ofMillis(50));
            if (!records.isEmpty()) return records.count();
        }
        return 0;
    }
}
