package io.tandem.server.kafka.controller;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.CreatePartitionsRequest;
import io.tandem.kafka.wire.message.CreatePartitionsResponse;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.RawKafkaConnection;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * When CreateTopics and CreatePartitions answer, as Kafka 3.9's ZooKeeper-mode broker (ZkAdminManager with
 * DelayedCreatePartitions): once the receiving broker's own metadata cache has a leader for every new partition,
 * whatever the other replicas' brokers do; REQUEST_TIMED_OUT at the request's timeoutMs while a partition has none;
 * at once, REQUEST_TIMED_OUT though the topic is created, when timeoutMs is 0; NOT_CONTROLLER at once on a broker that
 * is not the controller. Broker 2 here is a registration
 * (written as a broker's would be) whose listener accepts connections and never answers: a broker that hangs, or a
 * host behind a black hole, which the controller's requests wait on for ever.
 */
class CreateTopicsLeaderWaitTest {
    private static final long WAIT_MS = 30_000;
    /** Far below the 30 s a wait on every replica broker took, far above a loaded machine's answer. */
    private static final long QUICK_MS = 15_000;

    @TempDir
    Path dir;
    private Tandem zookeeper;
    private Tandem broker;
    private ZkZnodeStore zk;
    private ServerSocket silent;
    private final List<Socket> accepted = new CopyOnWriteArrayList<>();
    private RawKafkaConnection connection;

    @AfterEach
    void stop() throws IOException {
        // Broker 2's listener goes first: broker 1's controlled shutdown then fails at once instead of waiting on a
        // silent controller for each of its tries.
        if (silent != null) silent.close();
        for (Socket s : accepted) s.close();
        if (connection != null) connection.close();
        if (broker != null) broker.close();
        if (zk != null) zk.close();
        if (zookeeper != null) zookeeper.close();
    }

    @Test
    void shouldAnswerNoneWithoutWaitingForAReplicaBrokerThatNeverAnswers() throws Exception {
        startWithSilentBroker();
        long startNanos = System.nanoTime();
        CreateTopicsResponse.CreatableTopicResult created = createTopics("spread", List.of(1, 2), 30_000);
        long tookMs = (System.nanoTime() - startNanos) / 1_000_000;
        assertEquals(Errors.NONE.code(), created.errorCode, created.errorMessage);
        assertTrue(tookMs < QUICK_MS, "CreateTopics waited " + tookMs + " ms for broker 2");
        assertEquals(1, created.numPartitions);
        assertEquals(2, created.replicationFactor);
        // Answered once this broker knew the leader, so a Metadata request right after finds it.
        assertEquals(1, metadata("spread").partitions.get(0).leaderId);

        startNanos = System.nanoTime();
        CreatePartitionsResponse.CreatePartitionsTopicResult grown = createPartitions("spread", List.of(1, 2), 30_000);
        tookMs = (System.nanoTime() - startNanos) / 1_000_000;
        assertEquals(Errors.NONE.code(), grown.errorCode, grown.errorMessage);
        assertTrue(tookMs < QUICK_MS, "CreatePartitions waited " + tookMs + " ms for broker 2");
        assertEquals(1, metadata("spread").partitions.get(1).leaderId);
    }

    @Test
    void shouldAnswerRequestTimedOutAtOnceWhenTimeoutIsZeroAndStillCreate() throws Exception {
        startWithSilentBroker();
        long startNanos = System.nanoTime();
        CreateTopicsResponse.CreatableTopicResult created = createTopics("unawaited", List.of(1, 2), 0);
        long tookMs = (System.nanoTime() - startNanos) / 1_000_000;
        assertEquals(Errors.REQUEST_TIMED_OUT.code(), created.errorCode, created.errorMessage);
        assertTrue(tookMs < QUICK_MS, "a timeoutMs of 0 waited " + tookMs + " ms");
        // As Kafka's KafkaApis: a result that is not NONE has its layout and configs cleared.
        assertEquals(-1, created.numPartitions);
        assertEquals(-1, created.replicationFactor);
        assertTrue(created.configs.isEmpty(), "configs: " + created.configs);
        awaitLeader("unawaited", 0);

        CreatePartitionsResponse.CreatePartitionsTopicResult grown = createPartitions("unawaited", List.of(1, 2), 0);
        assertEquals(Errors.REQUEST_TIMED_OUT.code(), grown.errorCode, grown.errorMessage);
        awaitLeader("unawaited", 1);
    }

    @Test
    void shouldAnswerRequestTimedOutAtTheBoundWhileNoLeaderIsElected() throws Exception {
        // The assignment names only broker 9, which never registers: Kafka 3.9 writes it all the same, and the
        // controller elects no leader for it.
        startWithSilentBroker();
        int timeoutMs = 2_000;
        long startNanos = System.nanoTime();
        CreateTopicsResponse.CreatableTopicResult created = createTopics("leaderless", List.of(9), timeoutMs);
        long tookMs = (System.nanoTime() - startNanos) / 1_000_000;
        assertEquals(Errors.REQUEST_TIMED_OUT.code(), created.errorCode, created.errorMessage);
        assertTrue(tookMs >= timeoutMs - 50 && tookMs < timeoutMs + QUICK_MS, "answered after " + tookMs + " ms");
        assertTrue(zk.getData(KafkaZkLayout.topicPath("leaderless")) != null, "the assignment was written");
    }

    @Test
    void shouldAnswerNotControllerAtOnceOnABrokerThatIsNotTheController() throws Exception {
        // Broker 2 holds /controller and never acts: broker 1 takes neither request, as Kafka 3.9's ZooKeeper-mode
        // broker (KafkaApis: NOT_CONTROLLER before anything else), and writes nothing.
        startZooKeeper();
        registerSilentBroker(2);
        assertTrue(zk.create(KafkaZkLayout.CONTROLLER, KafkaZkLayout.encodeController(2, System.currentTimeMillis()),
                true));
        startBroker();
        long startNanos = System.nanoTime();
        CreateTopicsResponse.CreatableTopicResult created = createTopics("elsewhere", List.of(1), 30_000);
        assertEquals(Errors.NOT_CONTROLLER.code(), created.errorCode, created.errorMessage);
        CreatePartitionsResponse.CreatePartitionsTopicResult grown = createPartitions("elsewhere", List.of(1), 30_000);
        assertEquals(Errors.NOT_CONTROLLER.code(), grown.errorCode, grown.errorMessage);
        long tookMs = (System.nanoTime() - startNanos) / 1_000_000;
        assertTrue(tookMs < QUICK_MS, "answered after " + tookMs + " ms");
        assertTrue(zk.getData(KafkaZkLayout.topicPath("elsewhere")) == null, "nothing was written");
    }

    /** ZooKeeper, broker 1 (the controller) and the silent broker 2, which broker 1 lists as live. */
    private void startWithSilentBroker() throws Exception {
        startZooKeeper();
        startBroker();
        registerSilentBroker(2);
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (metadataResponse(null).brokers.stream().noneMatch(b -> b.nodeId == 2)) {
            assertTrue(System.currentTimeMillis() < deadline, "broker 2 never became live");
            Thread.sleep(50);
        }
    }

    private void startZooKeeper() throws Exception {
        zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk")).roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
        zk = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), Duration.ofSeconds(30));
    }

    private void startBroker() throws Exception {
        broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka")).roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", "1").set("zookeeper.connect", zookeeper.zookeeperConnect()));
        connection = new RawKafkaConnection(broker.kafkaPort());
    }

    /** Registers broker {@code id} (ephemeral, in this test's session) on a listener that accepts and never reads. */
    private void registerSilentBroker(int id) throws Exception {
        silent = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        Thread acceptor = new Thread(() -> {
            try {
                while (true) accepted.add(silent.accept());
            } catch (IOException closed) {
                // The test ended.
            }
        }, "silent-broker-listener");
        acceptor.setDaemon(true);
        acceptor.start();
        assertTrue(zk.create(KafkaZkLayout.brokerPath(id), KafkaZkLayout.encodeBroker(new KafkaZkLayout.BrokerRegistration(
                id, "127.0.0.1", silent.getLocalPort(), "PLAINTEXT", null, System.currentTimeMillis())), true));
    }

    private CreateTopicsResponse.CreatableTopicResult createTopics(String name, List<Integer> replicas, int timeoutMs)
            throws Exception {
        CreateTopicsRequest request = new CreateTopicsRequest();
        CreateTopicsRequest.CreatableTopic topic = new CreateTopicsRequest.CreatableTopic();
        topic.name = name;
        topic.numPartitions = -1;
        topic.replicationFactor = -1;
        CreateTopicsRequest.CreatableReplicaAssignment assignment = new CreateTopicsRequest.CreatableReplicaAssignment();
        assignment.partitionIndex = 0;
        assignment.brokerIds = new ArrayList<>(replicas);
        topic.assignments.add(assignment);
        request.topics.add(topic);
        request.timeoutMs = timeoutMs;
        return connection.roundTrip(ApiKey.CREATE_TOPICS, (short) 7, (short) 1, request, CreateTopicsResponse::read)
                .topics.get(0);
    }

    /** Adds one partition, on {@code replicas}. */
    private CreatePartitionsResponse.CreatePartitionsTopicResult createPartitions(String name, List<Integer> replicas,
                                                                              int timeoutMs) throws Exception {
        CreatePartitionsRequest request = new CreatePartitionsRequest();
        CreatePartitionsRequest.CreatePartitionsTopic topic = new CreatePartitionsRequest.CreatePartitionsTopic();
        topic.name = name;
        topic.count = 2;
        CreatePartitionsRequest.CreatePartitionsAssignment assignment =
                new CreatePartitionsRequest.CreatePartitionsAssignment();
        assignment.brokerIds = new ArrayList<>(replicas);
        topic.assignments = new ArrayList<>(List.of(assignment));
        request.topics.add(topic);
        request.timeoutMs = timeoutMs;
        return connection.roundTrip(ApiKey.CREATE_PARTITIONS, (short) 3, (short) 1, request,
                CreatePartitionsResponse::read).results.get(0);
    }

    /** Metadata for {@code topic} (null: no topic, the brokers only). */
    private MetadataResponse metadataResponse(String topic) throws Exception {
        MetadataRequest request = new MetadataRequest();
        request.topics = new ArrayList<>();
        if (topic != null) {
            MetadataRequest.MetadataRequestTopic wanted = new MetadataRequest.MetadataRequestTopic();
            wanted.name = topic;
            request.topics.add(wanted);
        }
        return connection.roundTrip(ApiKey.METADATA, (short) 12, (short) 1, request, MetadataResponse::read);
    }

    private MetadataResponse.MetadataResponseTopic metadata(String topic) throws Exception {
        return metadataResponse(topic).topics.get(0);
    }

    private void awaitLeader(String topic, int partition) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            MetadataResponse.MetadataResponseTopic t = metadata(topic);
            if (t.partitions.size() > partition && t.partitions.get(partition).leaderId == 1) return;
            assertTrue(System.currentTimeMillis() < deadline, "no leader for " + topic + "-" + partition);
            Thread.sleep(50);
        }
    }
}
