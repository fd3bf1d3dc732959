package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** Each codec: batches written compressed by the producer are stored as sent (compression.type=producer) and read back. */
@ExtendWith(KafkaTargetExtension.class)
class CompressionTest {
    private static final int RECORDS = 200;
    private static final int VALUE_SIZE = 1000;

    @ParameterizedTest(name = "{0}")
    @ValueSource(strings = {"gzip", "snappy", "lz4", "zstd"})
    void compressedBatchesRoundTripAndStayCompressed(String codec, KafkaTarget target) throws Exception {
        String topic = unique("compressed-" + codec);
        TopicPartition tp = new TopicPartition(topic, 0);
        List<byte[]> sent = new ArrayList<>();
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            Properties props = producerProps(target);
            props.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, codec);
            props.put(ProducerConfig.LINGER_MS_CONFIG, 50);
            try (KafkaProducer<byte[], byte[]> producer = bytesProducer(props)) {
                for (int i = 0; i < RECORDS; i++) {
                    // Compressible but not constant, so a wrong decompression shows up in the comparison.
                    byte[] value = ("record " + i + " ").repeat(VALUE_SIZE / 12).getBytes(StandardCharsets.UTF_8);
                    sent.add(value);
                    producer.send(new ProducerRecord<>(topic, 0, ("k" + i).getBytes(StandardCharsets.UTF_8), value));
                }
            }
            try (KafkaConsumer<byte[], byte[]> consumer = bytesConsumer(consumerProps(target, null))) {
                consumer.assign(List.of(tp));
                consumer.seekToBeginning(List.of(tp));
                List<ConsumerRecord<byte[], byte[]>> got = pollExactly(consumer, RECORDS);
                assertEquals(RECORDS, got.size());
                for (int i = 0; i < RECORDS; i++) {
                    assertEquals(i, got.get(i).offset());
                    assertEquals("k" + i, new String(got.get(i).key(), StandardCharsets.UTF_8));
                    assertArrayEquals(sent.get(i), got.get(i).value(), "value of record " + i);
                }
            }
            int broker = get(admin.describeCluster().nodes()).iterator().next().id();
            long stored = get(admin.describeLogDirs(List.of(broker)).allDescriptions()).get(broker).values().stream()
                    .map(dir -> dir.replicaInfos().get(tp)).filter(r -> r != null).mapToLong(r -> r.size()).sum();
            long raw = (long) RECORDS * VALUE_SIZE;
            assertTrue(stored > 0 && stored < raw / 4,
                    codec + ": the log holds the compressed batches (" + stored + " bytes for " + raw + " raw)");
        }
    }
}
