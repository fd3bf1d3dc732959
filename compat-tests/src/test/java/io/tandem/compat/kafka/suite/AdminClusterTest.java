package io.tandem.compat.kafka.suite;

import static io.tandem.compat.kafka.suite.KafkaSuite.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.DescribeClusterResult;
import org.apache.kafka.clients.admin.LogDirDescription;
import org.apache.kafka.clients.admin.RecordsToDelete;
import org.apache.kafka.clients.admin.ReplicaInfo;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.errors.OffsetOutOfRangeException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;

/** describeCluster, deleteRecords and describeLogDirs. */
@ExtendWith(KafkaTargetExtension.class)
class AdminClusterTest {

    @Test
    void describeClusterNamesTheOneBrokerAtTheBootstrapAddress(KafkaTarget target) throws Exception {
        try (Admin admin = admin(target)) {
            DescribeClusterResult cluster = admin.describeCluster();
            String clusterId = get(cluster.clusterId());
            assertNotNull(clusterId);
            assertTrue(clusterId.length() >= 1);
            Collection<Node> nodes = get(cluster.nodes());
            assertEquals(1, nodes.size());
            Node node = nodes.iterator().next();
            assertEquals(target.bootstrapServers(), node.host() + ":" + node.port());
            assertTrue(node.id() >= 0);
            assertEquals(node.id(), get(cluster.controller()).id(), "a single node is its own controller");
        }
    }

    @Test
    void deleteRecordsMovesTheLogStartOffset(KafkaTarget target) throws Exception {
        String topic = unique("delete-records");
        TopicPartition tp = new TopicPartition(topic, 0);
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 1);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                for (int i = 0; i < 10; i++) {
                    producer.send(new ProducerRecord<>(topic, "v" + i));
                }
            }
            assertEquals(4, get(admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(4)))
                    .lowWatermarks().get(tp)).lowWatermark());

            ExecutionException e = assertThrows(ExecutionException.class,
                    () -> get(admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(11))).all()));
            assertInstanceOf(OffsetOutOfRangeException.class, e.getCause(), "past the high watermark");

            try (KafkaConsumer<String, String> consumer = stringConsumer(target, null)) {
                consumer.assign(List.of(tp));
                assertEquals(Map.of(tp, 4L), consumer.beginningOffsets(List.of(tp)));
                consumer.seekToBeginning(List.of(tp));
                List<ConsumerRecord<String, String>> rest = pollExactly(consumer, 6);
                assertEquals(List.of("v4", "v5", "v6", "v7", "v8", "v9"), values(rest));
                assertEquals(4, rest.get(0).offset());
            }
            // Deleting up to the high watermark (-1 = "all") empties the partition, offsets keep counting.
            assertEquals(10, get(admin.deleteRecords(Map.of(tp, RecordsToDelete.beforeOffset(-1)))
                    .lowWatermarks().get(tp)).lowWatermark());
        }
    }

    @Test
    void describeLogDirsListsTheTopicsReplicas(KafkaTarget target) throws Exception {
        String topic = unique("log-dirs");
        try (Admin admin = admin(target)) {
            createTopic(admin, topic, 2);
            try (KafkaProducer<String, String> producer = stringProducer(target)) {
                producer.send(new ProducerRecord<>(topic, 0, null, "x".repeat(1000)));
            }
            int broker = get(admin.describeCluster().nodes()).iterator().next().id();
            Map<String, LogDirDescription> dirs = get(admin.describeLogDirs(List.of(broker)).allDescriptions())
                    .get(broker);
            assertEquals(1, dirs.size(), "one log dir: " + dirs.keySet());
            LogDirDescription dir = dirs.values().iterator().next();
            assertEquals(null, dir.error());
            ReplicaInfo p0 = dir.replicaInfos().get(new TopicPartition(topic, 0));
            ReplicaInfo p1 = dir.replicaInfos().get(new TopicPartition(topic, 1));
            assertNotNull(p0, "partition 0 is in " + dir.replicaInfos().keySet());
            assertNotNull(p1);
            assertTrue(p0.size() > 1000, "size of a partition holding a 1000-byte record: " + p0.size());
            assertEquals(0, p1.size(), "an empty partition");
            assertEquals(false, p0.isFuture());
            assertTrue(dir.totalBytes().isPresent() && dir.totalBytes().getAsLong() > 0);
            assertTrue(dir.usableBytes().isPresent());
        }
    }
}
