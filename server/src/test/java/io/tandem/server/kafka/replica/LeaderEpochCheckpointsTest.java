package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.LeaderAndIsrResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.storage.log.LogConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * A LeaderAndIsr making this broker the leader of many partitions (the controller's answer to a new
 * {@code __consumer_offsets}: 50 of them) opens their logs and writes their leader-epoch checkpoints side by side,
 * not one after another, and still announces each leadership (this broker's metadata, which Metadata and
 * FindCoordinator answer from) only once its checkpoint is on disk, as Kafka's broker has written it before it
 * answers the LeaderAndIsr.
 */
class LeaderEpochCheckpointsTest {
    private static final int BROKER = 1;
    private static final String TOPIC = "__consumer_offsets";
    private static final int PARTITIONS = 8;

    @TempDir
    Path dir;
    @RegisterExtension
    final ReplicaLogFixture fixture = new ReplicaLogFixture();

    @Test
    void shouldWriteTheCheckpointsOfOneLeaderAndIsrTogetherAndAnnounceEachLeaderOnlyAfterItsCheckpoint()
            throws Exception {
        LocalZnodeStore store = new LocalZnodeStore(Files.createDirectories(dir.resolve("zk")));
        TreeMap<Integer, List<Integer>> assignment = new TreeMap<>();
        for (int p = 0; p < PARTITIONS; p++) assignment.put(p, List.of(BROKER));
        store.setData(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(
                new TopicAssignment(UUID.randomUUID(), assignment)));
        ClusterMetadata metadata = new ClusterMetadata(store, new BrokerRegistration(BROKER, "localhost", 9092,
                "PLAINTEXT", null, 0));
        LogManager logs = fixture.logs(Files.createDirectories(dir.resolve("logs")), BROKER);

        // Each checkpoint write waits (up to 5 s) for a second one to be in flight beside it: written one after
        // another, no two ever are. Each also notes whether its partition's leader was already announced.
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        CountDownLatch two = new CountDownLatch(2);
        Map<Integer, Boolean> announcedBeforeWrite = new ConcurrentHashMap<>();
        Set<Integer> announced = ConcurrentHashMap.newKeySet();
        for (int p = 0; p < PARTITIONS; p++) {
            int partition = p;
            Partition log = logs.getOrCreate(new TopicPartition(TOPIC, p), LogConfig.defaults());
            log.log().leaderEpochs().beforeWrite(() -> {
                mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                announcedBeforeWrite.put(partition, announced.contains(partition));
                two.countDown();
                try {
                    two.await(5, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                inFlight.decrementAndGet();
            });
        }
        ReplicaManager replicas = new ReplicaManager(BROKER, metadata, (topic, p) -> {
            try {
                return logs.getOrCreate(new TopicPartition(topic.name(), p), LogConfig.defaults());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, tp -> { }, 10_000, 1 << 20);
        // Announced: the coordinators are told of the leadership (the metadata cache learns it from UpdateMetadata).
        replicas.becameLeaderListener(led -> announced.add(led.topicPartition().partition()));
        try {
            LeaderAndIsrResponse response = replicas.becomeLeaderOrFollower(leaderAndIsr(), (short) 6);

            assertEquals(0, response.errorCode);
            assertEquals(PARTITIONS, response.topics.get(0).partitionErrors.size());
            response.topics.get(0).partitionErrors.forEach(e -> assertEquals(0, e.errorCode, "partition "
                    + e.partitionIndex));
            assertTrue(mostInFlight.get() >= 2, "the checkpoints were written one after another");
            assertEquals(PARTITIONS, announcedBeforeWrite.size(), "every partition's checkpoint was written");
            announcedBeforeWrite.forEach((p, early) -> assertEquals(false, early,
                    "partition " + p + " was announced before its checkpoint was written"));
            for (int p = 0; p < PARTITIONS; p++) {
                assertTrue(announced.contains(p), "partition " + p + " announced");
                Partition partition = logs.get(new TopicPartition(TOPIC, p));
                assertTrue(partition.isLeader());
                assertEquals(List.of("0", "1", "4 0"), Files.readAllLines(
                        partition.log().dir().resolve("leader-epoch-checkpoint")), "partition " + p);
            }
        } finally {
            replicas.close();
        }
    }

    @Test
    void shouldOpenTheLogsOfOneLeaderAndIsrSideBySide() throws Exception {
        LocalZnodeStore store = new LocalZnodeStore(Files.createDirectories(dir.resolve("zk")));
        TreeMap<Integer, List<Integer>> assignment = new TreeMap<>();
        for (int p = 0; p < PARTITIONS; p++) assignment.put(p, List.of(BROKER));
        store.setData(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(
                new TopicAssignment(UUID.randomUUID(), assignment)));
        ClusterMetadata metadata = new ClusterMetadata(store, new BrokerRegistration(BROKER, "localhost", 9092,
                "PLAINTEXT", null, 0));
        LogManager logs = fixture.logs(Files.createDirectories(dir.resolve("logs")), BROKER);
        // Each log's creation waits (up to 2 s) for a second one to be under way beside it.
        AtomicInteger inFlight = new AtomicInteger();
        AtomicInteger mostInFlight = new AtomicInteger();
        CountDownLatch two = new CountDownLatch(2);
        ReplicaManager replicas = new ReplicaManager(BROKER, metadata, (topic, p) -> {
            TopicPartition tp = new TopicPartition(topic.name(), p);
            Partition open = logs.get(tp);
            if (open != null) return open;
            try {
                mostInFlight.accumulateAndGet(inFlight.incrementAndGet(), Math::max);
                two.countDown();
                two.await(2, TimeUnit.SECONDS);
                return logs.getOrCreate(tp, LogConfig.defaults());
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            } finally {
                inFlight.decrementAndGet();
            }
        }, tp -> { }, 10_000, 1 << 20);
        // Announced: the coordinators are told of the leadership (the metadata cache learns it from UpdateMetadata).
        Set<Integer> announced = ConcurrentHashMap.newKeySet();
        replicas.becameLeaderListener(led -> announced.add(led.topicPartition().partition()));
        try {
            LeaderAndIsrResponse response = replicas.becomeLeaderOrFollower(leaderAndIsr(), (short) 6);

            response.topics.get(0).partitionErrors.forEach(e -> assertEquals(0, e.errorCode, "partition "
                    + e.partitionIndex));
            assertTrue(mostInFlight.get() >= 2, "the logs were opened one after another");
            for (int p = 0; p < PARTITIONS; p++) {
                assertTrue(logs.get(new TopicPartition(TOPIC, p)).isLeader(), "partition " + p);
                assertTrue(announced.contains(p), "partition " + p + " announced");
            }
        } finally {
            replicas.close();
        }
    }

    /**
     * The request's topic id is taken where the logs are opened, side by side: by the time the pass over the
     * partitions (on the request's thread) reaches a partition, its partition.metadata file is on disk. Before, the
     * pass wrote the 50 files of a new __consumer_offsets one after another.
     */
    @Test
    void shouldTakeTheTopicIdWhereTheLogsAreOpened() throws Exception {
        LocalZnodeStore store = new LocalZnodeStore(Files.createDirectories(dir.resolve("zk")));
        TreeMap<Integer, List<Integer>> assignment = new TreeMap<>();
        for (int p = 0; p < PARTITIONS; p++) assignment.put(p, List.of(BROKER));
        UUID topicId = UUID.randomUUID();
        store.setData(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(
                new TopicAssignment(topicId, assignment)));
        ClusterMetadata metadata = new ClusterMetadata(store, new BrokerRegistration(BROKER, "localhost", 9092,
                "PLAINTEXT", null, 0));
        LogManager logs = fixture.logs(Files.createDirectories(dir.resolve("logs")), BROKER);
        Thread requestThread = Thread.currentThread();
        Set<Integer> seenByThePass = ConcurrentHashMap.newKeySet();
        Set<Integer> withoutIdInThePass = ConcurrentHashMap.newKeySet();
        ReplicaManager replicas = new ReplicaManager(BROKER, metadata, (topic, p) -> {
            try {
                Partition open = logs.getOrCreate(new TopicPartition(topic.name(), p), LogConfig.defaults());
                if (Thread.currentThread() == requestThread) {
                    seenByThePass.add(p);
                    if (!Files.exists(open.log().dir().resolve("partition.metadata"))) withoutIdInThePass.add(p);
                }
                return open;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }, tp -> { }, 10_000, 1 << 20);
        try {
            LeaderAndIsrRequest request = leaderAndIsr();
            request.topicStates.get(0).topicId = topicId;
            LeaderAndIsrResponse response = replicas.becomeLeaderOrFollower(request, (short) 6);

            response.topics.get(0).partitionErrors.forEach(e -> assertEquals(0, e.errorCode, "partition "
                    + e.partitionIndex));
            assertEquals(PARTITIONS, seenByThePass.size(), "the pass met every partition");
            assertEquals(Set.of(), withoutIdInThePass, "partitions whose topic id the pass had still to write");
            for (int p = 0; p < PARTITIONS; p++) {
                Partition led = logs.get(new TopicPartition(TOPIC, p));
                assertTrue(led.isLeader(), "partition " + p);
                assertTrue(Files.readString(led.log().dir().resolve("partition.metadata"))
                        .contains(io.tandem.server.kafka.metadata.TopicId.toText(topicId)), "partition " + p);
            }
        } finally {
            replicas.close();
        }
    }

    private static LeaderAndIsrRequest leaderAndIsr() {
        LeaderAndIsrRequest request = new LeaderAndIsrRequest();
        request.controllerId = 2;
        request.controllerEpoch = 1;
        request.brokerEpoch = -1;
        request.type = ReplicaManager.LEADER_AND_ISR_INCREMENTAL;
        LeaderAndIsrRequest.LeaderAndIsrTopicState topic = new LeaderAndIsrRequest.LeaderAndIsrTopicState();
        topic.topicName = TOPIC;
        for (int p = 0; p < PARTITIONS; p++) {
            LeaderAndIsrRequest.LeaderAndIsrPartitionState state = new LeaderAndIsrRequest.LeaderAndIsrPartitionState();
            state.partitionIndex = p;
            state.controllerEpoch = 1;
            state.leader = BROKER;
            state.leaderEpoch = 4;
            state.isr = new ArrayList<>(List.of(BROKER));
            state.partitionEpoch = 0;
            state.replicas = new ArrayList<>(List.of(BROKER));
            topic.partitionStates.add(state);
        }
        request.topicStates.add(topic);
        return request;
    }
}
