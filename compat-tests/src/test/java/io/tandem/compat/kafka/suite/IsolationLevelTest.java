package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.ListOffsetsOptions;
import org.apache.kafka.clients.admin.OffsetSpec;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.IsolationLevel;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.extension.ExtendWith;

/** Without transactions the last stable offset is the high watermark: both isolation levels see everything. */
@ExtendWith(KafkaTargetExtension.class)
class IsolationLevelTest {

    @ParameterizedTest
    @ValueSource(strings = {"read_committed", "read_uncommitted"})
    void nonTransactionalRecordsAreVisibleAtEitherIsolationLevel(String isolation, KafkaTarget target)
            throws Exception {
        String topic = unique("isolation");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                for (int i = 0; i < 5; i++) {
                    producer.send(new ProducerRecord<>(topic, "v" + i));
                }
            }
            IsolationLevel level = IsolationLevel.valueOf(isolation.toUpperCase(java.util.Locale.ROOT));
            assertEquals(5, get(admin.listOffsets(Map.of(tp, OffsetSpec.latest()),
                    new ListOffsetsOptions(level)).all()).get(tp).offset(), "latest offset at " + isolation);

            Properties props = consumerProps(target, null);
            props.put(ConsumerConfig.ISOLATION_LEVEL_CONFIG, isolation);
            try (KafkaConsumer<String, String> consumer =
                         new KafkaConsumer<>(props, new StringDeserializer(), new StringDeserializer())) {
                consumer.assign(List.of(tp));
                assertEquals(Map.of(tp, 5L), consumer.endOffsets(List.of(tp)));
                consumer.seekToBeginning(List.of(tp));
                assertEquals(List.of("v0", "v1", "v2", "v3", "v4"), values(pollExactly(consumer, 5)));
            }
        }
    }
}
