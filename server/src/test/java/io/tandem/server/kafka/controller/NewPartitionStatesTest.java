package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import io.tandem.server.kafka.metadata.ZnodeStore;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * The controller writes the first states of a new topic's partitions together (fenced multis of up to
 * {@link ControllerState#STATES_PER_MULTI}, parents created in one pipelined round) instead of one ZooKeeper write
 * per partition: every state must land at version 0 in ZooKeeper and in the controller's view, however many
 * partitions, and a state that appeared meanwhile must not stop the others.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class NewPartitionStatesTest {
    private static final int EPOCH = 1;

    @Test
    void everyStateOfATopicLargerThanOneMultiIsWrittenAtVersionZero(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore store = connect(zookeeper.zookeeperConnect())) {
            ControllerState cluster = controllerOf(store);
            int partitions = ControllerState.STATES_PER_MULTI * 2 + 7;
            Map<TopicPartition, PartitionState> fresh = fresh("wide", partitions);

            List<TopicPartition> written = cluster.writeNewStates(fresh);

            assertEquals(partitions, written.size());
            for (TopicPartition tp : fresh.keySet()) {
                ZnodeStore.Versioned stored = store.getVersioned(KafkaZkLayout.partitionStatePath(tp.topic(), tp.partition()));
                assertNotNull(stored, tp + " in ZooKeeper");
                assertEquals(0, stored.version());
                assertEquals(0, KafkaZkLayout.decodePartitionState(stored.data()).leader());
                assertEquals(0, cluster.states.get(tp).zkVersion(), tp + " in the controller's view");
            }
        }
    }

    @Test
    void aStateThatAppearedMeanwhileIsReReadAndTheOthersAreStillWritten(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore store = connect(zookeeper.zookeeperConnect())) {
            ControllerState cluster = controllerOf(store);
            Map<TopicPartition, PartitionState> fresh = fresh("raced", 10);
            TopicPartition raced = new TopicPartition("raced", 3);
            PartitionState theirs = new PartitionState(5, 7, EPOCH, List.of(5), -1);
            // Another writer created partition 3's state first.
            store.create(KafkaZkLayout.partitionStatePath("raced", 3), KafkaZkLayout.encodePartitionState(theirs), false);

            List<TopicPartition> written = cluster.writeNewStates(fresh);

            assertEquals(9, written.size());
            assertFalse(written.contains(raced));
            assertEquals(5, cluster.states.get(raced).leader(), "the state found in ZooKeeper was read back");
            for (TopicPartition tp : written) {
                assertEquals(0, store.getVersioned(KafkaZkLayout.partitionStatePath(tp.topic(), tp.partition())).version());
            }
        }
    }

    private static ControllerState controllerOf(ZkZnodeStore store) throws Exception {
        store.create(KafkaZkLayout.CONTROLLER_EPOCH, Integer.toString(EPOCH).getBytes(), false);
        ControllerState cluster = new ControllerState(store, () -> {
            throw new AssertionError("the epoch did not move");
        });
        cluster.epochZkVersion = store.getVersioned(KafkaZkLayout.CONTROLLER_EPOCH).version();
        return cluster;
    }

    private static Map<TopicPartition, PartitionState> fresh(String topic, int partitions) {
        Map<TopicPartition, PartitionState> fresh = new LinkedHashMap<>();
        for (int p = 0; p < partitions; p++) {
            fresh.put(new TopicPartition(topic, p), new PartitionState(0, 0, EPOCH, List.of(0), -1));
        }
        return fresh;
    }

    private static ZkZnodeStore connect(String connectString) throws Exception {
        return ZkZnodeStore.connect(connectString, Duration.ofSeconds(10), Duration.ofSeconds(30));
    }
}
