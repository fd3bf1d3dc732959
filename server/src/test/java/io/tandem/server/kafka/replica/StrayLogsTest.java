package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.storage.log.LogConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A full LeaderAndIsr (Kafka's type FULL) names every partition the controller gives this broker: the log of any
 * other partition on its disk is a stray left by a deletion or a move it missed while down, and is deleted. An
 * incremental one deletes nothing it does not name. (Before, such replicas stayed on disk for good: 42 and 33 of 300
 * replication simulation seeds ended with one.)
 */
class StrayLogsTest {
    private static final int BROKER = 1;
    private static final TopicPartition KEPT = new TopicPartition("kept", 0);
    private static final TopicPartition MOVED = new TopicPartition("moved", 0);
    private static final TopicPartition ORPHAN = new TopicPartition("orphan", 0);

    @TempDir
    Path dir;
    @RegisterExtension
    final ReplicaLogFixture fixture = new ReplicaLogFixture();

    @Test
    void shouldDeleteTheLogsAFullLeaderAndIsrDoesNotNameAndKeepThemOnAnIncrementalOne() throws Exception {
        LocalZnodeStore store = new LocalZnodeStore(Files.createDirectories(dir.resolve("zk")));
        for (TopicPartition tp : List.of(KEPT, MOVED)) {
            TreeMap<Integer, List<Integer>> assignment = new TreeMap<>();
            assignment.put(0, List.of(BROKER, 2));
            store.setData(KafkaZkLayout.topicPath(tp.topic()), KafkaZkLayout.encodeTopicAssignment(
                    new TopicAssignment(UUID.randomUUID(), assignment)));
        }
        ClusterMetadata metadata = new ClusterMetadata(store, new BrokerRegistration(BROKER, "localhost", 9092,
                "PLAINTEXT", null, 0));
        LogManager logs = fixture.logs(Files.createDirectories(dir.resolve("logs")), BROKER);
        ReplicaManager replicas = new ReplicaManager(BROKER, metadata, (topic, p) -> {
            try {
                return logs.getOrCreate(new TopicPartition(topic.name(), p), LogConfig.defaults());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, tp -> { }, 10_000, 1 << 20);
        List<TopicPartition> deleted = new ArrayList<>();
        replicas.localLogs(new ReplicaManager.LocalLogs() {
            @Override
            public Collection<TopicPartition> onDisk() throws IOException {
                return logs.partitionsOnDisk();
            }

            @Override
            public void delete(TopicPartition tp) {
                deleted.add(tp);
                try {
                    logs.delete(tp);
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }
        });
        try {
            assertEquals(0, replicas.becomeLeaderOrFollower(leaderAndIsr(ReplicaManager.LEADER_AND_ISR_INCREMENTAL,
                    KEPT, MOVED), (short) 6).errorCode);
            // A log on disk no controller ever named (a deleted topic's, from before the last restart).
            logs.getOrCreate(ORPHAN, LogConfig.defaults());
            assertEquals(Set.of(KEPT, MOVED, ORPHAN), Set.copyOf(logs.partitionsOnDisk()));

            assertEquals(0, replicas.becomeLeaderOrFollower(leaderAndIsr(ReplicaManager.LEADER_AND_ISR_INCREMENTAL,
                    KEPT), (short) 6).errorCode);
            assertEquals(List.of(), deleted, "an incremental LeaderAndIsr deletes nothing it does not name");

            assertEquals(0, replicas.becomeLeaderOrFollower(leaderAndIsr(ReplicaManager.LEADER_AND_ISR_FULL, KEPT),
                    (short) 6).errorCode);
            assertEquals(Set.of(MOVED, ORPHAN), Set.copyOf(deleted));
            assertEquals(List.of(KEPT), logs.partitionsOnDisk());
            assertNotNull(logs.get(KEPT));
            assertNull(logs.get(MOVED));
        } finally {
            replicas.close();
        }
    }

    private static LeaderAndIsrRequest leaderAndIsr(byte type, TopicPartition... partitions) {
        LeaderAndIsrRequest request = new LeaderAndIsrRequest();
        request.controllerId = 2;
        request.controllerEpoch = 1;
        request.brokerEpoch = -1;
        request.type = type;
        for (TopicPartition tp : partitions) {
            LeaderAndIsrRequest.LeaderAndIsrTopicState topic = new LeaderAndIsrRequest.LeaderAndIsrTopicState();
            topic.topicName = tp.topic();
            LeaderAndIsrRequest.LeaderAndIsrPartitionState state = new LeaderAndIsrRequest.LeaderAndIsrPartitionState();
            state.partitionIndex = tp.partition();
            state.controllerEpoch = 1;
            state.leader = BROKER;
            state.leaderEpoch = 0;
            state.isr = new ArrayList<>(List.of(BROKER));
            state.partitionEpoch = 0;
            state.replicas = new ArrayList<>(List.of(BROKER, 2));
            topic.partitionStates.add(state);
            request.topicStates.add(topic);
        }
        return request;
    }
}
