package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.clients.consumer.OffsetOutOfRangeException;
import org.apache.kafka.common.record.TimestampType;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The traps other Kafka reimplementations fell into, each against the real client's expectations. */
@ExtendWith(KafkaTargetExtension.class)
class FetchEdgeCasesTest {

    @Test
    void aFetchStartingInsideACompressedBatchStillDeliversTheRestOfIt(KafkaTarget target) throws Exception {
        String topic = unique("mid-batch");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        Properties props = producerProps(target);
        props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        props.put(ProducerConfig.LINGER_MS_CONFIG, 1000);
        try (KafkaProducer<String, String> producer =
                     new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
            for (int i = 0; i < 10; i++) {
                producer.send(new ProducerRecord<>(topic, 0, null, "v" + i));
            }
        }
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 6);
            List<ConsumerRecord<String, String>> got = pollExactly(consumer, 4);
            assertEquals(List.of("v6", "v7", "v8", "v9"), values(got));
            assertEquals(6, got.get(0).offset());
        }
    }

    @Test
    void aRecordLargerThanTheFetchLimitsIsStillDelivered(KafkaTarget target) throws Exception {
        String topic = unique("big-record");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        String big = "b".repeat(100_000);
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            producer.send(new ProducerRecord<>(topic, 0, null, big));
            producer.send(new ProducerRecord<>(topic, 0, null, "small"));
        }
        Properties props = consumerProps(target, null);
        // KIP-74: the first batch is returned even when it exceeds both limits, so a consumer never gets stuck.
        props.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, 1024);
        props.put(ConsumerConfig.FETCH_MAX_BYTES_CONFIG, 1024);
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            assertEquals(List.of(big, "small"), values(pollExactly(consumer, 2)));
        }
    }

    @Test
    void aFetchPastTheLogEndIsOutOfRange(KafkaTarget target) throws Exception {
        String topic = unique("out-of-range");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            producer.send(new ProducerRecord<>(topic, 0, null, "only")).get();
        }
        Properties props = consumerProps(target, null);
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "none");
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 50);
            OffsetOutOfRangeException e = assertThrows(OffsetOutOfRangeException.class, () -> {
                long until = System.nanoTime() + TIMEOUT.toNanos();
                while (System.nanoTime() < until) {
                    consumer.poll(java.time.Duration.ofMillis(200));
                }
            });
            assertEquals(Map.of(tp, 50L), e.offsetOutOfRangePartitions());
        }
        props.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
        try (KafkaConsumer<String, String> consumer =
                     new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
            consumer.assign(List.of(tp));
            consumer.seek(tp, 50);
            assertEquals(List.of("only"), values(pollExactly(consumer, 1)), "earliest resets to the log start");
        }
    }

    @Test
    void acksZeroAndOneProducersAreAnsweredAsApacheDoes(KafkaTarget target) throws Exception {
        String topic = unique("acks");
        TopicPartition partition = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            for (String acks : List.of("0", "1")) {
                Properties props = producerProps(target);
                props.put(ProducerConfig.ACKS_CONFIG, acks);
                props.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, false);
                try (KafkaProducer<String, String> producer =
                             new KafkaProducer<>(props, new StringSerializer(), new StringSerializer())) {
                    RecordMetadata ack = producer.send(new ProducerRecord<>(topic, 0, null, "acks=" + acks)).get();
                    // acks=0 gets no response, so the client cannot know the offset and reports -1.
                    assertEquals(acks.equals("0") ? -1 : 1, ack.offset(), "offset reported with acks=" + acks);
                }
                // Nothing tells an acks=0 producer when its record is in; the next producer's connection may be
                // served first. The record sent right before the close must land (it once was lost with the close).
                long deadline = System.nanoTime() + TIMEOUT.toNanos();
                while (get(admin.listOffsets(Map.of(partition, OffsetSpec.latest())).all()).get(partition).offset() < 1
                        && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
            }
        }
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
            TopicPartition tp = new TopicPartition(topic, 0);
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            assertEquals(List.of("acks=0", "acks=1"), values(pollExactly(consumer, 2)));
        }
    }

    @Test
    void logAppendTimeTopicsStampRecordsWithTheBrokersClock(KafkaTarget target) throws Exception {
        String topic = unique("log-append-time");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1, Map.of("message.timestamp.type", "LogAppendTime"));
        }
        long before = System.currentTimeMillis();
        RecordMetadata ack;
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            ack = producer.send(new ProducerRecord<>(topic, 0, 1_000L, "k", "v")).get();
        }
        long after = System.currentTimeMillis();
        assertTrue(ack.timestamp() >= before - 1000 && ack.timestamp() <= after + 1000,
                "the produce response carries the log append time, not the 1000 the producer set: " + ack.timestamp());
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
            consumer.assign(List.of(tp));
            consumer.seekToBeginning(List.of(tp));
            ConsumerRecord<String, String> record = pollExactly(consumer, 1).get(0);
            assertEquals(TimestampType.LOG_APPEND_TIME, record.timestampType());
            assertEquals(ack.timestamp(), record.timestamp());
        }
    }

    @Test
    void listOffsetsFindsEarliestLatestAndMaxTimestamp(KafkaTarget target) throws Exception {
        String topic = unique("list-offsets");
        TopicPartition tp = new TopicPartition(topic, 0);
        long base = System.currentTimeMillis() - 60_000;
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                long[] times = {base + 10, base + 50, base + 20, base + 30};
                for (long time : times) {
                    producer.send(new ProducerRecord<>(topic, 0, time, null, "t" + (time - base)));
                }
            }
            assertEquals(0, get(admin.listOffsets(Map.of(tp, OffsetSpec.earliest())).all()).get(tp).offset());
            assertEquals(4, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all()).get(tp).offset());
            var max = get(admin.listOffsets(Map.of(tp, OffsetSpec.maxTimestamp())).all()).get(tp);
            assertEquals(1, max.offset(), "the record with the largest timestamp");
            assertEquals(base + 50, max.timestamp());
            var forTime = get(admin.listOffsets(Map.of(tp, OffsetSpec.forTimestamp(base + 25))).all()).get(tp);
            assertEquals(1, forTime.offset(), "first offset whose timestamp is at or after the target");
        }
    }

    @Test
    void producingToAnUnknownTopicCreatesItWithTheDefaults(KafkaTarget target) throws Exception {
        String topic = unique("auto-created");
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            RecordMetadata ack = producer.send(new ProducerRecord<>(topic, "k", "v")).get();
            assertEquals(0, ack.offset());
        }
        try (Admin admin = admin(target)) {
            assertEquals(1, get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).partitions().size(),
                    "num.partitions defaults to 1");
        }
    }

    @Test
    void aTopicRecreatedAfterDeletionStartsEmpty(KafkaTarget target) throws Exception {
        String topic = unique("recreated");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            var firstId = get(admin.describeTopics(List.of(topic)).allTopicNames()).get(topic).topicId();
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                producer.send(new ProducerRecord<>(topic, "old")).get();
            }
            get(admin.deleteTopics(List.of(topic)).all());
            Eventually.run(() -> createTopic(admin, topic, 1));
            var secondId = Eventually.get(() -> get(admin.describeTopics(List.of(topic)).allTopicNames())
                    .get(topic).topicId());
            assertTrue(!firstId.equals(secondId), "a new topic id");
            Eventually.run(() -> assertEquals(0L,
                    get(admin.listOffsets(Map.of(tp, OffsetSpec.latest())).all()).get(tp).offset()));
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                assertEquals(0, producer.send(new ProducerRecord<>(topic, "new")).get().offset());
            }
            try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                assertEquals(List.of("new"), values(pollExactly(consumer, 1)));
            }
        }
    }
}
