package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.CommitFailedException;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.consumer.OffsetAndTimestamp;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Manual assignment: seekToBeginning, seekToEnd, seek to an offset, offsetsForTimes, beginning/end offsets, and a
 * manually assigned consumer beside a live group (classic or consumer protocol) of the same id.
 */
@ExtendWith(KafkaTargetExtension.class)
class AssignAndSeekTest {
    private static final int RECORDS = 10;
    /** Record i has timestamp BASE + 1000 * i: far enough in the past to be unambiguous, within retention. */
    private static final long BASE = System.currentTimeMillis() - 3_600_000;

    private String topic;
    private TopicPartition partition;

    @BeforeEach
    void produceTimestampedRecords(KafkaTarget target) throws Exception {
        topic = unique("seek");
        partition = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            for (int i = 0; i < RECORDS; i++) {
                producer.send(new ProducerRecord<>(topic, 0, BASE + 1000L * i, "k" + i, "v" + i));
            }
            producer.flush();
        }
    }

    @Test
    void seekToBeginningEndAndOffsetPositionTheConsumer(KafkaTarget target) {
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
            consumer.assign(List.of(partition));
            assertEquals(Map.of(partition, 0L), consumer.beginningOffsets(List.of(partition)));
            assertEquals(Map.of(partition, (long) RECORDS), consumer.endOffsets(List.of(partition)));

            consumer.seekToEnd(List.of(partition));
            assertEquals(RECORDS, consumer.position(partition));
            assertEquals(List.of(), consumer.poll(Duration.ofMillis(500)).records(partition), "nothing past the end");

            consumer.seek(partition, 6);
            List<ConsumerRecord<String, String>> tail = pollExactly(consumer, RECORDS - 6);
            assertEquals(List.of("v6", "v7", "v8", "v9"), values(tail));
            assertEquals(6, tail.get(0).offset());
            assertEquals(BASE + 6000, tail.get(0).timestamp());

            consumer.seekToBeginning(List.of(partition));
            assertEquals(0, consumer.position(partition));
            List<ConsumerRecord<String, String>> all = pollExactly(consumer, RECORDS);
            assertEquals(0, all.get(0).offset());
            assertEquals("k0", all.get(0).key());
            assertEquals(RECORDS, all.size());
        }
    }

    @Test
    void offsetsForTimesFindsTheFirstRecordAtOrAfterEachTimestamp(KafkaTarget target) {
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
            consumer.assign(List.of(partition));
            Map<Long, Long> expectedOffsetByTime = new HashMap<>();
            expectedOffsetByTime.put(BASE - 1, 0L);
            expectedOffsetByTime.put(BASE, 0L);
            expectedOffsetByTime.put(BASE + 3500, 4L);
            expectedOffsetByTime.put(BASE + 9000, 9L);
            expectedOffsetByTime.forEach((time, offset) -> {
                OffsetAndTimestamp found = consumer.offsetsForTimes(Map.of(partition, time)).get(partition);
                assertEquals(offset, found.offset(), "offset for time " + (time - BASE));
                assertEquals(BASE + 1000 * offset, found.timestamp(), "timestamp for time " + (time - BASE));
            });
            assertNull(consumer.offsetsForTimes(Map.of(partition, BASE + 9001)).get(partition),
                    "no record at or after a time past the last one");

            consumer.seek(partition, consumer.offsetsForTimes(Map.of(partition, BASE + 7000)).get(partition).offset());
            assertEquals(List.of("v7", "v8", "v9"), values(pollExactly(consumer, 3)));
        }
    }

    /**
     * A manually assigned consumer beside a live group of the same id: it reads without joining, but its commits
     * (generation or member epoch -1, naming no member) are refused while the group has members, and taken once the
     * group is empty, as Kafka takes an admin's.
     */
    @ParameterizedTest(name = "group.protocol={0}")
    @ValueSource(strings = {"classic", "consumer"})
    void aManuallyAssignedConsumerBesideALiveGroupCommitsOnlyOnceTheGroupIsEmpty(String protocol, KafkaTarget target)
            throws Exception {
        String group = unique("beside");
        try (KafkaConsumer<String, String> member = stringConsumer(target, group, protocol)) {
            member.subscribe(List.of(topic));
            assertEquals(RECORDS, pollExactly(member, RECORDS).size());
            member.commitSync(Map.of(partition, new OffsetAndMetadata(3)));
            try (KafkaConsumer<String, String> manual = stringConsumer(target, group, protocol)) {
                manual.assign(List.of(partition));
                manual.seek(partition, 5);
                assertEquals(List.of("v5", "v6", "v7", "v8", "v9"), values(pollExactly(manual, 5)));
                assertThrows(CommitFailedException.class,
                        () -> manual.commitSync(Map.of(partition, new OffsetAndMetadata(8))));
                assertEquals(3, manual.committed(Set.of(partition)).get(partition).offset());
            }
        }
        try (KafkaConsumer<String, String> manual = stringConsumer(target, group, protocol)) {
            manual.assign(List.of(partition));
            manual.commitSync(Map.of(partition, new OffsetAndMetadata(8)));
            assertEquals(8, manual.committed(Set.of(partition)).get(partition).offset());
        }
    }
}
