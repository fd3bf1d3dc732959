package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
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

import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;

import static org.junit.jupiter.api.Assertions.*;

/** The Java client reads zero-copy fetches (records sent from segment files) of many batches over several partitions. */
@ExtendWith(NoBufferLeaks.class)
class ZeroCopyFetchTest {
    @TempDir
    Path dir;

    @Test
    void theJavaConsumerReadsEveryRecordOfEveryPartitionInOrder() throws Exception {
        int partitions = 3;
        int perPartition = 400;
        try (Tandem tandem = Tandem.start(KafkaBrokerEndToEndTest.config(dir))) {
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("bulk", partitions, (short) 1))).all().get();
            }
            Properties pp = new Properties();
            pp.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            pp.put(ProducerConfig.LINGER_MS_CONFIG, "5");
            pp.put(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
            try (KafkaProducer<byte[], byte[]> producer = new KafkaProducer<>(pp, new ByteArraySerializer(), new ByteArraySerializer())) {
                for (int i = 0; i < perPartition; i++) {
                    for (int p = 0; p < partitions; p++) producer.send(new ProducerRecord<>("bulk", p, null, value(p, i)));
                }
                producer.flush();
            }
            Properties cp = new Properties();
            cp.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
            // Small fetches make many responses with several record regions each.
            cp.put(ConsumerConfig.MAX_PARTITION_FETCH_BYTES_CONFIG, "16384");
            try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(cp, new ByteArrayDeserializer(), new ByteArrayDeserializer())) {
                List<TopicPartition> tps = List.of(new TopicPartition("bulk", 0), new TopicPartition("bulk", 1),
                        new TopicPartition("bulk", 2));
                consumer.assign(tps);
                consumer.seekToBeginning(tps);
                int[] next = new int[partitions];
                long deadline = System.currentTimeMillis() + 60_000;
                while (sum(next) < partitions * perPartition && System.currentTimeMillis() < deadline) {
                    for (ConsumerRecord<byte[], byte[]> r : consumer.poll(Duration.ofMillis(200))) {
                        int p = r.partition();
                        assertEquals(next[p], r.offset());
                        assertArrayEquals(value(p, next[p]), r.value());
                        next[p]++;
                    }
                }
                assertArrayEquals(new int[] {perPartition, perPartition, perPartition}, next);
            }
        }
    }

    private static byte[] value(int partition, int index) {
        ByteBuffer b = ByteBuffer.allocate(1024);
        while (b.remaining() >= 8) b.putInt(partition).putInt(index);
        return b.array();
    }

    private static int sum(int[] counts) {
        int total = 0;
        for (int c : counts) total += c;
        return total;
    }
}
