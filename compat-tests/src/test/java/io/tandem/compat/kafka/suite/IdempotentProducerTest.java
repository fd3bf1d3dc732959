package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.clients.producer.RecordMetadata;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaTargetExtension.class)
class IdempotentProducerTest {

    @Test
    void defaultIdempotentProducerWritesEveryRecordOnceInOrder(KafkaTarget target) throws Exception {
        String topic = unique("idempotent");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
        }
        List<String> sent = IntStream.range(0, 2000).mapToObj(i -> "record-" + i).toList();
        List<Future<RecordMetadata>> acks = new ArrayList<>();
        // Default settings: enable.idempotence=true, acks=all, so InitProducerId and sequence numbers are exercised.
        try (KafkaProducer<String, String> producer = stringProducer(target)) {
            for (String value : sent) {
                acks.add(producer.send(new ProducerRecord<>(topic, "key", value)));
            }
            producer.flush();
        }
        for (int i = 0; i < acks.size(); i++) {
            RecordMetadata metadata = acks.get(i).get();
            assertEquals(i, metadata.offset(), "offset of record " + i);
            assertEquals(0, metadata.partition());
            assertTrue(metadata.timestamp() > 0, "a CreateTime timestamp is reported");
        }
        try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
            consumer.assign(List.of(new org.apache.kafka.common.TopicPartition(topic, 0)));
            consumer.seekToBeginning(consumer.assignment());
            List<ConsumerRecord<String, String>> got = pollExactly(consumer, sent.size());
            assertEquals(sent, values(got));
            for (int i = 0; i < got.size(); i++) {
                assertEquals(i, got.get(i).offset());
                assertEquals("key", got.get(i).key());
            }
        }
    }
}
