package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ConsumerGroupDescription;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.GroupState;
import org.apache.kafka.common.GroupType;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A clean broker restart in the middle of producing and consuming: the same idempotent producer carries on, a
 * classic group and a consumer-protocol (KIP-848) group each resume from their committed offsets (the consumer group
 * itself survives, Empty), and a full re-read finds every record once, in order per partition. Both groups go
 * through the one restart rather than a restart each: an Apache restart takes tens of seconds.
 */
@ExtendWith(KafkaTargetExtension.class)
class RestartTest {
    private static final int PARTITIONS = 3;
    private static final int PER_PHASE = 300;

    @Test
    void nothingIsLostOrDuplicatedAcrossARestart(KafkaTarget target) throws Exception {
        String topic = unique("restart");
        String group = unique("restart-group");
        List<String> protocols = List.of("classic", "consumer");
        Map<Integer, List<String>> sentByPartition = new HashMap<>();
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, PARTITIONS);
        }
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            send(producer, topic, 0, sentByPartition);
            for (String protocol : protocols) {
                try (KafkaConsumer<String, String> consumer = stringConsumer(target, group + protocol, protocol)) {
                    consumer.subscribe(List.of(topic));
                    assertEquals(PER_PHASE, pollExactly(consumer, PER_PHASE).size());
                    consumer.commitSync();
                }
            }

            prepareStateThatMustSurvive(target, topic);
            long stopped = System.nanoTime();
            target.restart();
            System.getLogger(RestartTest.class.getName()).log(System.Logger.Level.INFO,
                    "{0} restarted in {1} ms", target.name(), (System.nanoTime() - stopped) / 1_000_000);

            // The producer from before the restart reconnects and keeps its idempotent sequence.
            send(producer, topic, PER_PHASE, sentByPartition);
        }
        try (Admin admin = admin(target)) {
            ConsumerGroupDescription kip848 = get(admin.describeConsumerGroups(List.of(group + "consumer")).all())
                    .get(group + "consumer");
            assertEquals(GroupType.CONSUMER, kip848.type(), "the consumer group survives the restart");
            assertEquals(GroupState.EMPTY, kip848.groupState());
        }
        for (String protocol : protocols) {
            try (KafkaConsumer<String, String> consumer = stringConsumer(target, group + protocol, protocol)) {
                consumer.subscribe(List.of(topic));
                List<ConsumerRecord<String, String>> rest = pollExactly(consumer, PER_PHASE);
                assertEquals(PER_PHASE, rest.size(),
                        protocol + " group resumes from offsets committed before the restart");
                assertEquals(PER_PHASE, rest.stream().filter(r -> Integer.parseInt(r.value().substring(1)) >= PER_PHASE)
                        .count(), "only records sent after the restart are new to the " + protocol + " group");
            }
        }
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
            List<TopicPartition> partitions = new ArrayList<>();
            for (int p = 0; p < PARTITIONS; p++) {
                partitions.add(new TopicPartition(topic, p));
            }
            consumer.assign(partitions);
            consumer.seekToBeginning(partitions);
            Map<Integer, List<String>> readByPartition = new HashMap<>();
            List<ConsumerRecord<String, String>> all = pollExactly(consumer, 2 * PER_PHASE);
            for (ConsumerRecord<String, String> record : all) {
                readByPartition.computeIfAbsent(record.partition(), p -> new ArrayList<>()).add(record.value());
            }
            assertEquals(sentByPartition, readByPartition, "every record once, in send order per partition");
            for (TopicPartition tp : partitions) {
                assertEquals((long) sentByPartition.get(tp.partition()).size(),
                        consumer.endOffsets(List.of(tp)).get(tp), "log end of " + tp);
            }
        }
    }

    /** Names of what {@link #prepareStateThatMustSurvive} made, checked after the restart. */
    private String configured;
    private String trimmed;
    private String checkpointGroup;
    private org.apache.kafka.common.Uuid configuredId;

    /** Topic configs, a grown partition count, a moved log start and commit metadata: all durable in Apache. */
    private void prepareStateThatMustSurvive(KafkaTarget target, String topic) throws Exception {
        configured = topic + "-configured";
        trimmed = topic + "-trimmed";
        checkpointGroup = topic + "-checkpoints";
        try (Admin admin = admin(target)) {
            createTopic(admin, configured, 2, Map.of("max.message.bytes", "3000", "retention.ms", "777777"));
            get(admin.createPartitions(Map.of(configured, org.apache.kafka.clients.admin.NewPartitions.increaseTo(3)))
                    .all());
            configuredId = get(admin.describeTopics(List.of(configured)).allTopicNames()).get(configured).topicId();
            createTopic(admin, trimmed, 1);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>(trimmed, "t" + i)).get();
                }
            }
            get(admin.deleteRecords(Map.of(new TopicPartition(trimmed, 0),
                    org.apache.kafka.clients.admin.RecordsToDelete.beforeOffset(3))).all());
        }
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, checkpointGroup)) {
            consumer.assign(List.of(new TopicPartition(trimmed, 0)));
            consumer.commitSync(Map.of(new TopicPartition(trimmed, 0),
                    new org.apache.kafka.clients.consumer.OffsetAndMetadata(4, "before-restart")));
        }
    }

    @org.junit.jupiter.api.AfterEach
    void stateMadeBeforeTheRestartIsStillThere(KafkaTarget target) throws Exception {
        if (configured == null) {
            return; // the test failed before making it; its own failure is the report
        }
        try (Admin admin = admin(target)) {
            var description = get(admin.describeTopics(List.of(configured)).allTopicNames()).get(configured);
            assertEquals(configuredId, description.topicId(), "topic id after the restart");
            assertEquals(3, description.partitions().size(), "grown partition count after the restart");
            var resource = new org.apache.kafka.common.config.ConfigResource(
                    org.apache.kafka.common.config.ConfigResource.Type.TOPIC, configured);
            var config = get(admin.describeConfigs(List.of(resource)).all()).get(resource);
            assertEquals("3000", config.get("max.message.bytes").value());
            assertEquals("777777", config.get("retention.ms").value());
            var offsets = get(admin.listConsumerGroupOffsets(checkpointGroup).partitionsToOffsetAndMetadata());
            assertEquals(4, offsets.get(new TopicPartition(trimmed, 0)).offset());
            assertEquals("before-restart", offsets.get(new TopicPartition(trimmed, 0)).metadata());
        }
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
            TopicPartition tp = new TopicPartition(trimmed, 0);
            consumer.assign(List.of(tp));
            assertEquals(Map.of(tp, 3L), consumer.beginningOffsets(List.of(tp)), "log start offset after the restart");
            assertEquals(Map.of(tp, 5L), consumer.endOffsets(List.of(tp)));
            consumer.seekToBeginning(List.of(tp));
            assertEquals(List.of("t3", "t4"), values(pollExactly(consumer, 2)));
        }
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            var e = org.junit.jupiter.api.Assertions.assertThrows(java.util.concurrent.ExecutionException.class,
                    () -> producer.send(new ProducerRecord<>(configured, "x".repeat(5000))).get());
            org.junit.jupiter.api.Assertions.assertInstanceOf(
                    org.apache.kafka.common.errors.RecordTooLargeException.class, e.getCause(),
                    "max.message.bytes is still enforced after the restart");
        }
    }

    private static void send(KafkaProducer<String, String> producer, String topic, int first,
                             Map<Integer, List<String>> sentByPartition) throws Exception {
        List<java.util.concurrent.Future<org.apache.kafka.clients.producer.RecordMetadata>> acks = new ArrayList<>();
        for (int i = first; i < first + PER_PHASE; i++) {
            acks.add(producer.send(new ProducerRecord<>(topic, "key" + (i % 7), "v" + i)));
        }
        for (int i = 0; i < acks.size(); i++) {
            int partition = acks.get(i).get().partition();
            sentByPartition.computeIfAbsent(partition, p -> new ArrayList<>()).add("v" + (first + i));
        }
    }
}
