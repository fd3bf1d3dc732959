package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.consumer.OffsetAndMetadata;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

@ExtendWith(KafkaTargetExtension.class)
class OffsetCommitMetadataTest {

    @Test
    void committedOffsetsKeepTheirMetadataStrings(KafkaTarget target) throws Exception {
        String topic = unique("commit-metadata");
        String group = unique("metadata-group");
        TopicPartition p0 = new TopicPartition(topic, 0);
        TopicPartition p1 = new TopicPartition(topic, 1);
        TopicPartition p2 = new TopicPartition(topic, 2);
        String metadata = "checkpoint=42;node=ü✓;{\"json\":true}";
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 3);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                for (int i = 0; i < 9; i++) {
                    producer.send(new ProducerRecord<>(topic, i % 3, null, "v" + i));
                }
            }
            // A manually assigned consumer with a group id: the "simple" group of frameworks that store checkpoints.
            try (KafkaConsumer<String, String> consumer = stringConsumer(target, group)) {
                consumer.assign(List.of(p0, p1, p2));
                assertEquals(Map.of(), withoutNulls(consumer.committed(Set.of(p0, p1, p2))));
                consumer.commitSync(Map.of(p0, new OffsetAndMetadata(2, metadata), p1, new OffsetAndMetadata(3, ""),
                        p2, new OffsetAndMetadata(1)));
                Map<TopicPartition, OffsetAndMetadata> committed = consumer.committed(Set.of(p0, p1, p2));
                assertEquals(2, committed.get(p0).offset());
                assertEquals(metadata, committed.get(p0).metadata());
                assertEquals(3, committed.get(p1).offset());
                assertEquals("", committed.get(p1).metadata());
                assertEquals(1, committed.get(p2).offset());
                assertEquals("", committed.get(p2).metadata(), "no metadata reads back as the empty string");

                // A consumer resumes from the committed position.
                consumer.seek(p0, committed.get(p0));
                consumer.pause(List.of(p1, p2));
                assertEquals(List.of("v6"), values(pollExactly(consumer, 1)));
            }
            Map<TopicPartition, OffsetAndMetadata> viaAdmin = get(admin.listConsumerGroupOffsets(group)
                    .partitionsToOffsetAndMetadata());
            assertEquals(metadata, viaAdmin.get(p0).metadata());
            assertEquals(2, viaAdmin.get(p0).offset());
            assertNull(viaAdmin.get(new TopicPartition(topic, 7)));
        }
    }

    private static Map<TopicPartition, OffsetAndMetadata> withoutNulls(Map<TopicPartition, OffsetAndMetadata> in) {
        Map<TopicPartition, OffsetAndMetadata> out = new java.util.HashMap<>();
        in.forEach((tp, o) -> { if (o != null) out.put(tp, o); });
        return out;
    }
}
