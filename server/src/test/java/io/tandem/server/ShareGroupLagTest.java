package io.tandem.server;

import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.OfficialClientConnection;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

/**
 * DescribeShareGroupOffsets (the Admin's listShareGroupOffsets) gives each share-partition's lag from its partition's
 * end offset wherever the partition's leader is, as Kafka 4.4's group coordinator asks each leader with ListOffsets:
 * one topic led by the group's coordinator, one by another broker, both described through the coordinator (all the
 * group's topics) and by name.
 */
class ShareGroupLagTest {
    private static final String GROUP = "lagging";
    private static final int RECORDS = 10;
    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of("offsets.topic.num.partitions", "1",
            "offsets.topic.replication.factor", "1"));

    @Test
    void lagShouldComeFromThePartitionsLeaderWhereverItIs() throws Exception {
        TandemCluster cluster = kafka.cluster();
        int coordinator;
        try (OfficialClientConnection any = new OfficialClientConnection(cluster.broker(1).kafkaPort())) {
            coordinator = GroupCoordinators.await(any, GROUP);
        }
        int elsewhere = coordinator % 3 + 1;
        kafka.admin().createTopics(List.of(new NewTopic("here", Map.of(0, List.of(coordinator))),
                new NewTopic("away", Map.of(0, List.of(elsewhere))))).all().get(30, TimeUnit.SECONDS);
        TopicPartition here = new TopicPartition("here", 0);
        TopicPartition away = new TopicPartition("away", 0);
        produce(cluster, here, RECORDS);
        produce(cluster, away, RECORDS);
        kafka.admin().alterShareGroupOffsets(GROUP, Map.of(here, 2L, away, 3L)).all().get(30, TimeUnit.SECONDS);

        Map<TopicPartition, SharePartitionOffsetInfo> all = kafka.admin()
                .listShareGroupOffsets(Map.of(GROUP, new ListShareGroupOffsetsSpec())).partitionsToOffsetInfo(GROUP)
                .get(30, TimeUnit.SECONDS);
        assertTrue(all.containsKey(here) && all.containsKey(away), "all: " + all);
        assertEquals(2L, all.get(here).startOffset(), "all: " + all);
        assertEquals(Optional.of((long) RECORDS - 2), all.get(here).lag(), "all: " + all);
        assertEquals(3L, all.get(away).startOffset(), "all: " + all);
        assertEquals(Optional.of((long) RECORDS - 3), all.get(away).lag(), "all: " + all);
        assertTrue(all.get(away).leaderEpoch().isPresent(), "all: " + all);

        // More records on the other broker's partition: the lag follows its end offset.
        produce(cluster, away, 5);
        Map<TopicPartition, SharePartitionOffsetInfo> named = kafka.admin()
                .listShareGroupOffsets(Map.of(GROUP, new ListShareGroupOffsetsSpec().topicPartitions(List.of(away))))
                .partitionsToOffsetInfo(GROUP).get(30, TimeUnit.SECONDS);
        assertTrue(named.containsKey(away), "named: " + named);
        assertEquals(Optional.of((long) RECORDS + 5 - 3), named.get(away).lag(), "named: " + named);
    }

    private static void produce(TandemCluster cluster, TopicPartition tp, int records) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.runningBootstrapServers()), new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < records; i++) producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, "r"));
            producer.flush();
        }
    }
}
