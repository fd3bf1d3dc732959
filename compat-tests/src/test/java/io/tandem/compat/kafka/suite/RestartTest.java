package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/**
 * A clean broker restart in the middle of producing and consuming: the same idempotent producer carries on, the
 * group resumes from its committed offsets, and a full re-read finds every record once, in order per partition.
 */
@ExtendWith(KafkaTargetExtension.class)
class RestartTest {
    private static final int PARTITIONS = 3;
    private static final int PER_PHASE = 300;

    @Test
    void nothingIsLostOrDuplicatedAcrossARestart(KafkaTarget target) throws Exception {
        String topic = unique("restart");
        String group = unique("restart-group");
        Map<Integer, List<String>> sentByPartition = new HashMap<>();
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, PARTITIONS);
        }
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            send(producer, topic, 0, sentByPartition);
            try (KafkaConsumer<String, String> consumer = stringConsumer(target, group)) {
                consumer.subscribe(List.of(topic));
                assertEquals(PER_PHASE, pollExactly(consumer, PER_PHASE).size());
                consumer.commitSync();
            }

            target.restart();

            // The producer from before the restart reconnects and keeps its idempotent sequence.
            send(producer, topic, PER_PHASE, sentByPartition);
        }
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, group)) {
            consumer.subscribe(List.of(topic));
            List<ConsumerRecord<String, String>> rest = pollExactly(consumer, PER_PHASE);
            assertEquals(PER_PHASE, rest.size(), "the group resumes from offsets committed before the restart");
            assertEquals(PER_PHASE, rest.stream().filter(r -> Integer.parseInt(r.value().substring(1)) >= PER_PHASE)
                    .count(), "only records sent after the restart are new to the group");
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
