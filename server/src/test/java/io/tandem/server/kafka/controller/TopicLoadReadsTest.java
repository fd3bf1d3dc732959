package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.ForwardingZnodeStore;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller reads a topic it has just been told of with its partitions' states asked together (one pipelined
 * round trip to ZooKeeper), not one read per partition: a new {@code __consumer_offsets} (50 partitions, no state
 * yet) waited for 50 reads one after the other before its leaders were elected. The states that exist are loaded
 * at their versions, the missing ones stay missing.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class TopicLoadReadsTest {
    @Test
    void aTopicsPartitionStatesAreReadInOneBatch(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore zk = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            TreeMap<Integer, List<Integer>> replicas = new TreeMap<>();
            for (int p = 0; p < 50; p++) replicas.put(p, List.of(0));
            zk.create(KafkaZkLayout.topicPath("offsets"), KafkaZkLayout.encodeTopicAssignment(
                    new TopicAssignment(UUID.randomUUID(), replicas)), false);
            // Two partitions already have a state (a previous controller got that far), one of them rewritten once.
            PartitionState three = new PartitionState(0, 4, 1, List.of(0), -1);
            zk.create(KafkaZkLayout.partitionStatePath("offsets", 3), KafkaZkLayout.encodePartitionState(three), false);
            zk.create(KafkaZkLayout.partitionStatePath("offsets", 7), KafkaZkLayout.encodePartitionState(three), false);
            zk.setData(KafkaZkLayout.partitionStatePath("offsets", 7), KafkaZkLayout.encodePartitionState(three));
            AtomicInteger singleReads = new AtomicInteger();
            AtomicInteger batches = new AtomicInteger();
            ForwardingZnodeStore store = new ForwardingZnodeStore(zk) {
                @Override
                public Versioned getVersioned(String path) throws Exception {
                    singleReads.incrementAndGet();
                    return inner.getVersioned(path);
                }

                @Override
                public Map<String, Versioned> getVersionedAll(List<String> paths) throws Exception {
                    batches.incrementAndGet();
                    return inner.getVersionedAll(paths);
                }
            };
            ControllerState cluster = new ControllerState(store, () -> {
                throw new AssertionError("no epoch is written here");
            });

            cluster.loadTopic("offsets", () -> { });

            assertEquals(0, singleReads.get(), "no state was read on its own");
            assertEquals(1, batches.get(), "the 50 states were asked together");
            assertEquals(50, cluster.topics.get("offsets").replicas().size());
            assertEquals(4, cluster.states.get(new TopicPartition("offsets", 3)).leaderEpoch());
            assertEquals(0, cluster.states.get(new TopicPartition("offsets", 3)).zkVersion());
            assertEquals(1, cluster.states.get(new TopicPartition("offsets", 7)).zkVersion());
            assertEquals(2, cluster.states.keySet().stream().filter(tp -> tp.topic().equals("offsets")).count());
            assertFalse(cluster.states.containsKey(new TopicPartition("offsets", 0)));
        }
    }
}
