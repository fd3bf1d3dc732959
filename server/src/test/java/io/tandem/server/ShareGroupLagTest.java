package io.tandem.server;

import io.tandem.server.kafka.ClusterPerTest;
import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.OfficialClientConnection;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.ListShareGroupOffsetsSpec;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.admin.SharePartitionOffsetInfo;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * DescribeShareGroupOffsets (the Admin's listShareGroupOffsets) gives each share-partition's lag from its partition's
 * end offset wherever the partition's leader is, as Kafka 4.4's group coordinator asks each leader with ListOffsets:
 * one topic led by the group's coordinator, one by another broker, both described through the coordinator (all the
 * group's topics) and by name. The lag subtracts the records already done past the start offset (KIP-1226's
 * delivery-complete count), as Kafka 4.4's computeShareGroupLagAndBuildResponse: end - start - done.
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

    /**
     * Records acknowledged out of order (accept, release, reject, accept, release, then accept the rest) hold the
     * start offset at the first released one while the records past it are done: Kafka 4.4 answers the lag as the
     * end offset less the start offset less the records done from there on (the delivery-complete count its
     * share-partitions write), so 2 here, the two released records, where the end less the start would say 9. Both
     * ways Tandem answers it: a share-partition led by the group's coordinator (its state in memory) and one led by
     * another broker (its stored summary, ReadShareGroupStateSummary).
     */
    @Test
    void lagShouldNotCountRecordsAlreadyDonePastTheStartOffset() throws Exception {
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
        kafka.admin().incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, GROUP),
                List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                        AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);

        try (KafkaShareConsumer<String, String> consumer = ShareClusterClients.shareConsumer(cluster, GROUP)) {
            consumer.subscribe(List.of("here", "away"));
            Set<String> firstDeliveries = new HashSet<>();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
            while (firstDeliveries.size() < 2 * RECORDS) {
                if (System.nanoTime() > deadline) fail("delivered only " + firstDeliveries);
                for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                    boolean first = firstDeliveries.add(r.topic() + ":" + r.offset());
                    consumer.acknowledge(r, first ? OUT_OF_ORDER.get((int) r.offset()) : AcknowledgeType.RELEASE);
                }
                consumer.commitSync(Duration.ofSeconds(30));
            }
        }

        // Per partition: start offset 1 (offset 0 accepted, 1 released), done past it 2, 3, 5-9 (7 records).
        Map<TopicPartition, SharePartitionOffsetInfo> all = kafka.admin()
                .listShareGroupOffsets(Map.of(GROUP, new ListShareGroupOffsetsSpec())).partitionsToOffsetInfo(GROUP)
                .get(30, TimeUnit.SECONDS);
        for (TopicPartition tp : List.of(here, away)) {
            assertEquals(1L, all.get(tp).startOffset(), tp + ": " + all);
            assertEquals(Optional.of((long) RECORDS - 1 - 7), all.get(tp).lag(), tp + ": " + all);
        }
        // The end offset moves on, the done records stay subtracted.
        produce(cluster, away, 5);
        Map<TopicPartition, SharePartitionOffsetInfo> named = kafka.admin()
                .listShareGroupOffsets(Map.of(GROUP, new ListShareGroupOffsetsSpec().topicPartitions(List.of(away))))
                .partitionsToOffsetInfo(GROUP).get(30, TimeUnit.SECONDS);
        assertEquals(Optional.of((long) RECORDS + 5 - 1 - 7), named.get(away).lag(), "named: " + named);
    }

    /** How each of the first 10 offsets is acknowledged on its first delivery. */
    private static final List<AcknowledgeType> OUT_OF_ORDER = List.of(AcknowledgeType.ACCEPT, AcknowledgeType.RELEASE,
            AcknowledgeType.REJECT, AcknowledgeType.ACCEPT, AcknowledgeType.RELEASE, AcknowledgeType.ACCEPT,
            AcknowledgeType.ACCEPT, AcknowledgeType.ACCEPT, AcknowledgeType.ACCEPT, AcknowledgeType.ACCEPT);

    private static void produce(TandemCluster cluster, TopicPartition tp, int records) throws Exception {
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(Map.of(
                ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.runningBootstrapServers()), new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < records; i++) producer.send(new ProducerRecord<>(tp.topic(), tp.partition(), null, "r"));
            producer.flush();
        }
    }
}
