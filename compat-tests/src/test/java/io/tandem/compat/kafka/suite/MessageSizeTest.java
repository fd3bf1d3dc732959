package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** The broker enforces the topic's max.message.bytes on every batch (the producer's own limit is far higher). */
@ExtendWith(KafkaTargetExtension.class)
class MessageSizeTest {

    @Test
    void aBatchLargerThanMaxMessageBytesIsRefusedWithRecordTooLarge(KafkaTarget target) throws Exception {
        String topic = unique("max-message");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1, Map.of("max.message.bytes", "2048"));
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                producer.send(new ProducerRecord<>(topic, "small", "x".repeat(1000))).get();
                ExecutionException e = assertThrows(ExecutionException.class,
                        () -> producer.send(new ProducerRecord<>(topic, "big", "y".repeat(4000))).get());
                assertInstanceOf(RecordTooLargeException.class, e.getCause());
                // The producer and the partition are still usable after the refusal.
                producer.send(new ProducerRecord<>(topic, "after", "z".repeat(1000))).get();
            }
            try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                var got = pollExactly(consumer, 2);
                assertEquals(List.of("small", "after"), got.stream().map(r -> r.key()).toList());
                assertEquals(List.of(0L, 1L), got.stream().map(r -> r.offset()).toList());
            }
        }
    }
}
