package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ElectLeadersRequest;
import io.tandem.kafka.wire.message.ElectLeadersResponse;
import io.tandem.server.kafka.PartitionWaits;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.replica.ControllerLink;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.TopicPartitionInfo;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * ElectLeaders is answered as Kafka 3.9's ZooKeeper-mode broker answers it (ReplicaManager.electLeaders with its
 * DelayedElectLeader): a partition elected only once the answering broker's metadata cache shows its new leader, so a
 * Metadata request to that broker right after the answer already names it; a partition whose new leader the cache does
 * not show by the request's timeout is REQUEST_TIMED_OUT, while the other partitions keep their own answers. Tandem's
 * controller applies its own UpdateMetadata on its event thread, so here the test makes it lag, as Kafka's controller
 * sends it to its own broker through a send thread ({@link ControllerLink#deferLocalUpdateMetadataForTests}).
 */
class ElectLeadersAwaitsMetadataTest {
    /** How long the controller's own broker is made to lag its controller's decisions. */
    private static final long LAG_MS = 1_000;
    private static TandemCluster cluster;
    private static Admin admin;
    private ControllerLink link;

    @BeforeAll
    static void start() throws Exception {
        cluster = TandemCluster.start(2, UnaryOperator.identity());
        admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, cluster.bootstrapServers()));
    }

    @AfterAll
    static void stop() {
        if (admin != null) admin.close();
        if (cluster != null) cluster.close();
    }

    @AfterEach
    void applyAtOnceAgain() {
        if (link != null) link.deferLocalUpdateMetadataForTests(null);
    }

    @Test
    void shouldAnswerOnceTheAnsweringBrokersCacheShowsTheNewLeader() throws Exception {
        int controller = cluster.controllerId();
        int other = 3 - controller;
        String topic = "awaited";
        ledByControllerPreferringOther(topic, controller, other, 1);

        ScheduledExecutorService lagging = Executors.newSingleThreadScheduledExecutor();
        try {
            lagOwnUpdates(controller, update -> lagging.schedule(update, LAG_MS, TimeUnit.MILLISECONDS));
            TopicPartition tp = new TopicPartition(topic, 0);
            long started = System.nanoTime();
            Map<TopicPartition, Optional<Throwable>> answered = admin.electLeaders(ElectionType.PREFERRED, Set.of(tp))
                    .partitions().get(30, TimeUnit.SECONDS);
            long tookMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - started);
            assertEquals(Optional.empty(), answered.get(tp), "the preferred replica was elected");
            assertEquals(other, PartitionWaits.leaderAt(cluster.broker(controller), topic, 0),
                    "the answering broker's Metadata right after the answer (" + tookMs + " ms) names the new leader");
        } finally {
            lagging.shutdown();
        }
    }

    @Test
    void shouldTimeOutAPartitionWhoseNewLeaderTheCacheDoesNotShowInTime() throws Exception {
        int controller = cluster.controllerId();
        int other = 3 - controller;
        String topic = "timed-out";
        // Partition 0 is led by the controller and prefers the other broker; partition 1 is led by its preferred one.
        ledByControllerPreferringOther(topic, controller, other, 2);
        assertEquals(other, PartitionWaits.describe(admin, topic).partitions().get(1).leader().id());

        CountDownLatch release = new CountDownLatch(1);
        ExecutorService held = Executors.newSingleThreadExecutor();
        try {
            lagOwnUpdates(controller, update -> held.execute(() -> {
                try {
                    release.await(30, TimeUnit.SECONDS);
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                }
                update.run();
            }));
            Tandem answering = cluster.broker(controller);
            Map<Integer, Short> errors = new TreeMap<>();
            try (RawKafkaConnection c = new RawKafkaConnection(answering.kafkaPort())) {
                ElectLeadersResponse response = c.roundTrip(ApiKey.ELECT_LEADERS, (short) 2, (short) 1,
                        preferred(topic, 500, 0, 1), ElectLeadersResponse::read);
                assertEquals(Errors.NONE.code(), response.errorCode, "no top-level error");
                for (ElectLeadersResponse.ReplicaElectionResult t : response.replicaElectionResults) {
                    for (ElectLeadersResponse.PartitionResult p : t.partitionResult) errors.put(p.partitionId, p.errorCode);
                }
            }
            assertEquals(Map.of(0, Errors.REQUEST_TIMED_OUT.code(), 1, Errors.ELECTION_NOT_NEEDED.code()), errors,
                    "the election was made, but the answering broker's cache did not show it within the timeout");
            assertEquals(controller, PartitionWaits.leaderAt(answering, topic, 0), "the cache still lags");
        } finally {
            release.countDown();
            held.shutdown();
        }
        PartitionWaits.awaitLeader(admin, topic, 0, other);
    }

    /** The controller's broker applies its own controller's UpdateMetadata on {@code executor} (undone after each test). */
    private void lagOwnUpdates(int controller, java.util.concurrent.Executor executor) {
        link = cluster.broker(controller).kafkaBroker().controllerLink();
        link.deferLocalUpdateMetadataForTests(executor);
    }

    /**
     * Creates {@code topic} with its partitions on both brokers, then reorders partition 0's replicas so that it is
     * led by {@code controller} while preferring {@code other}; every other partition is placed other-first.
     */
    private static void ledByControllerPreferringOther(String topic, int controller, int other, int partitions)
            throws Exception {
        Map<Integer, List<Integer>> assignment = new TreeMap<>();
        assignment.put(0, List.of(controller, other));
        for (int p = 1; p < partitions; p++) assignment.put(p, List.of(other, controller));
        admin.createTopics(List.of(new NewTopic(topic, assignment))).all().get(30, TimeUnit.SECONDS);
        for (int p = 0; p < partitions; p++) PartitionWaits.awaitIsrSize(admin, cluster, topic, p, 2);
        TopicPartition tp = new TopicPartition(topic, 0);
        admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(other, controller)))))
                .all().get(30, TimeUnit.SECONDS);
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            TopicPartitionInfo info = PartitionWaits.describe(admin, topic).partitions().get(0);
            List<Integer> replicas = info.replicas().stream().map(n -> n.id()).toList();
            if (replicas.equals(List.of(other, controller)) && info.leader() != null && info.leader().id() == controller
                    && PartitionWaits.leaderAt(cluster.broker(controller), topic, 0) == controller) {
                return;
            }
            assertTrue(System.currentTimeMillis() < deadline, "partition 0 is " + info);
            Thread.sleep(50);
        }
    }

    private static ElectLeadersRequest preferred(String topic, int timeoutMs, int... partitions) {
        ElectLeadersRequest request = new ElectLeadersRequest();
        request.electionType = 0;
        request.timeoutMs = timeoutMs;
        request.topicPartitions = new ArrayList<>();
        ElectLeadersRequest.TopicPartitions t = new ElectLeadersRequest.TopicPartitions();
        t.topic = topic;
        for (int p : partitions) t.partitions.add(p);
        request.topicPartitions.add(t);
        return request;
    }
}
