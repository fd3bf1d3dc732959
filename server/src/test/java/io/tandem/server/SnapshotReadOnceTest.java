package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.wire.message.DescribeClusterRequest;
import io.tandem.kafka.wire.message.DescribeClusterResponse;
import io.tandem.kafka.wire.message.DescribeTopicPartitionsRequest;
import io.tandem.kafka.wire.message.DescribeTopicPartitionsResponse;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.kafka.wire.message.UpdateMetadataRequest;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.KafkaZkLayout.ListenerEndpoint;
import io.tandem.server.kafka.metadata.PartitionState;
import io.tandem.server.kafka.metadata.TopicNames;
import io.tandem.server.kafka.replica.ReplicaManager;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The handlers that answer from the metadata cache (Metadata, DescribeTopicPartitions, DescribeCluster,
 * FindCoordinator) read it once per request, as Kafka's read one MetadataSnapshot: their answer never mixes two
 * controller requests. The cache's test seam runs after every read on a request-handler thread and applies, through
 * the broker's own UpdateMetadata path, the other of two states in turn:
 * state 7 (controller 7, live brokers this one and 7, topic {@code t}'s replicas this one and 7 at leader epoch 1007,
 * every {@code __consumer_offsets} partition led by 7) and state 8 (the same with 8). So any two reads of one request
 * see different states, and an answer built from two reads names a controller absent from its brokers, an offline
 * replica, a leader epoch of the other state, or no coordinator. Each answer must be one state whole; each request
 * must have read the cache (the seam changed it), and over several requests both states must be seen.
 */
class SnapshotReadOnceTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final String TOPIC = "t";
    private static final String GROUP = "g";
    private static final int REQUESTS = 6;
    @TempDir
    Path dir;
    private Tandem node;
    private KafkaConnection client;
    private ClusterMetadata metadata;
    private final AtomicInteger changes = new AtomicInteger();
    private final ThreadLocal<Boolean> changing = ThreadLocal.withInitial(() -> false);

    @BeforeEach
    void start() throws Exception {
        node = Tandem.start(TandemConfig.forTests(dir).set("offsets.topic.num.partitions", "2"));
        Properties props = new Properties();
        props.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + node.kafkaPort());
        try (Admin admin = Admin.create(props)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get();
        }
        client = KafkaConnection.open(new InetSocketAddress("127.0.0.1", node.kafkaPort()), "snapshot-test", TIMEOUT,
                1 << 20);
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        // The group's coordinator topic made and led, and the topic's leader known, before the states are swapped.
        while (findCoordinator().errorCode != 0 || describeCluster().brokers.isEmpty()
                || node.kafkaBroker().metadata().knownTopic(TOPIC) == null
                || node.kafkaBroker().metadata().knownTopic(TOPIC).states().isEmpty()) {
            assertTrue(System.nanoTime() < deadline, "the node made its coordinator topic and " + TOPIC);
            Thread.sleep(20);
        }
        metadata = node.kafkaBroker().metadata();
        ReplicaManager replicas = node.kafkaBroker().replicas();
        UpdateMetadataRequest seven = state(7, replicas.controllerEpoch());
        UpdateMetadataRequest eight = state(8, replicas.controllerEpoch());
        assertEquals(0, replicas.updateMetadata(seven), "state 7 applied");
        metadata.cache().afterEachReadForTests(() -> {
            if (changing.get() || !Thread.currentThread().getName().startsWith("kafka-request-handler")) return;
            changing.set(true);
            try {
                boolean nowSeven = metadata.cache().snapshot().controllerId() == 7;
                assertEquals(0, replicas.updateMetadata(nowSeven ? eight : seven), "the other state applied");
                changes.incrementAndGet();
            } finally {
                changing.set(false);
            }
        });
    }

    @AfterEach
    void stop() {
        if (metadata != null) {
            metadata.cache().afterEachReadForTests(null);
            // This broker as the controller again, so its stop asks itself, not a made-up broker, to move leaderships.
            ReplicaManager replicas = node.kafkaBroker().replicas();
            replicas.updateMetadata(state(self(), replicas.controllerEpoch()));
        }
        if (client != null) client.close();
        if (node != null) node.close();
    }

    @Test
    void metadataAnswersOneState() throws Exception {
        assertEachAnswerIsOneState(() -> {
            MetadataResponse answer = client.send(new MetadataRequest().setTopics(null), TIMEOUT);
            int state = answer.controllerId;
            Set<Integer> brokers = new TreeSet<>();
            answer.brokers.forEach(b -> brokers.add(b.nodeId));
            assertEquals(Set.of(self(), state), brokers, "the brokers of controller " + state + "'s state");
            for (MetadataResponse.MetadataResponseTopic topic : answer.topics) {
                for (MetadataResponse.MetadataResponsePartition p : topic.partitions) {
                    if (topic.name.equals(TOPIC)) {
                        assertEquals(1000 + state, p.leaderEpoch, "t's epoch of the same state");
                        assertEquals(List.of(), p.offlineReplicas, "replica " + state + " live in its own state");
                    } else if (topic.name.equals(TopicNames.CONSUMER_OFFSETS)) {
                        assertEquals(state, p.leaderId, "a coordinator partition's leader live in the same state");
                    }
                }
            }
            return state;
        });
    }

    @Test
    void describeTopicPartitionsAnswersOneState() throws Exception {
        assertEachAnswerIsOneState(() -> {
            DescribeTopicPartitionsRequest request = new DescribeTopicPartitionsRequest();
            request.responsePartitionLimit = 100;
            DescribeTopicPartitionsRequest.TopicRequest wanted = new DescribeTopicPartitionsRequest.TopicRequest();
            wanted.name = TOPIC;
            request.topics.add(wanted);
            DescribeTopicPartitionsResponse answer = client.send(request, TIMEOUT);
            var partition = answer.topics.get(0).partitions.get(0);
            int state = partition.leaderEpoch - 1000;
            assertTrue(state == 7 || state == 8, "one of the states' epochs: " + partition.leaderEpoch);
            assertEquals(List.of(self(), state), partition.replicaNodes, "the replicas of the same state");
            assertEquals(List.of(), partition.offlineReplicas, "replica " + state + " live in its own state");
            return state;
        });
    }

    @Test
    void describeClusterAnswersOneState() throws Exception {
        assertEachAnswerIsOneState(() -> {
            DescribeClusterResponse answer = describeCluster();
            Set<Integer> brokers = new TreeSet<>();
            answer.brokers.forEach(b -> brokers.add(b.brokerId));
            assertEquals(Set.of(self(), answer.controllerId), brokers,
                    "the brokers of controller " + answer.controllerId + "'s state");
            return answer.controllerId;
        });
    }

    @Test
    void findCoordinatorAnswersOneState() throws Exception {
        assertEachAnswerIsOneState(() -> {
            FindCoordinatorResponse answer = findCoordinator();
            assertEquals(0, answer.errorCode, "the leader of one state, live in that state");
            assertEquals(1000 + answer.nodeId, answer.port, "broker " + answer.nodeId + "'s own endpoint");
            return answer.nodeId;
        });
    }

    /** Asks {@link #REQUESTS} times; each answer is checked whole and returns its state (7 or 8). */
    private void assertEachAnswerIsOneState(Supplier<Integer> ask) {
        Set<Integer> seen = new TreeSet<>();
        for (int i = 0; i < REQUESTS; i++) {
            int before = changes.get();
            int state = ask.get();
            assertTrue(state == 7 || state == 8, "one of the two states: " + state);
            assertTrue(changes.get() > before, "the request read the cache and the seam changed it after the read");
            seen.add(state);
        }
        assertEquals(Set.of(7, 8), seen, "both states answered in turn");
    }

    private int self() {
        return node.kafkaBroker().metadata().brokerId();
    }

    private FindCoordinatorResponse findCoordinator() {
        FindCoordinatorRequest request = new FindCoordinatorRequest();
        request.key = GROUP;
        return client.send(request, (short) 3, TIMEOUT);
    }

    private DescribeClusterResponse describeCluster() {
        return client.send(new DescribeClusterRequest(), TIMEOUT);
    }

    /**
     * The controller {@code id}'s UpdateMetadata: live brokers this one and {@code id} (at port 1000 + id on this
     * broker's listener), topic t on replicas this one and {@code id} led by this one at epoch 1000 + id, and every
     * coordinator partition led by {@code id}. With this broker's own id: this broker alone, as its controller.
     */
    private UpdateMetadataRequest state(int id, int controllerEpoch) {
        BrokerRegistration self = metadata.self();
        UpdateMetadataRequest request = new UpdateMetadataRequest();
        request.controllerId = id;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = metadata.brokerEpoch();
        ListenerEndpoint listener = self.endpoints().get(0);
        request.liveBrokers.add(broker(self.brokerId(), listener, listener.host(), listener.port()));
        if (id != self.brokerId()) request.liveBrokers.add(broker(id, listener, "127.0.0.1", 1000 + id));
        request.topicStates.add(topic(TOPIC, Map.of(0, new PartitionState(self.brokerId(), 1000 + id,
                controllerEpoch, List.of(self.brokerId()), 0)),
                id == self.brokerId() ? List.of(id) : List.of(self.brokerId(), id)));
        TopicInfo offsets = metadata.knownTopic(TopicNames.CONSUMER_OFFSETS);
        Map<Integer, PartitionState> led = new java.util.TreeMap<>();
        for (int p : offsets.replicas().keySet()) {
            led.put(p, new PartitionState(id, 1000 + id, controllerEpoch, List.of(self.brokerId()), 0));
        }
        request.topicStates.add(topic(TopicNames.CONSUMER_OFFSETS, led, List.of(self.brokerId())));
        return request;
    }

    private static UpdateMetadataRequest.UpdateMetadataBroker broker(int id, ListenerEndpoint listener, String host,
                                                                     int port) {
        UpdateMetadataRequest.UpdateMetadataBroker broker = new UpdateMetadataRequest.UpdateMetadataBroker();
        broker.id = id;
        UpdateMetadataRequest.UpdateMetadataEndpoint endpoint = new UpdateMetadataRequest.UpdateMetadataEndpoint();
        endpoint.host = host;
        endpoint.port = port;
        endpoint.listener = listener.listenerName();
        endpoint.securityProtocol = listener.securityProtocolId();
        broker.endpoints.add(endpoint);
        return broker;
    }

    private static UpdateMetadataRequest.UpdateMetadataTopicState topic(String name,
                                                                       Map<Integer, PartitionState> states,
                                                                       List<Integer> replicas) {
        UpdateMetadataRequest.UpdateMetadataTopicState topic = new UpdateMetadataRequest.UpdateMetadataTopicState();
        topic.topicName = name;
        states.forEach((p, state) -> {
            UpdateMetadataRequest.UpdateMetadataPartitionState ps =
                    new UpdateMetadataRequest.UpdateMetadataPartitionState();
            ps.partitionIndex = p;
            ps.controllerEpoch = state.controllerEpoch();
            ps.leader = state.leader();
            ps.leaderEpoch = state.leaderEpoch();
            ps.isr = new ArrayList<>(state.isr());
            ps.zkVersion = state.zkVersion();
            ps.replicas = new ArrayList<>(replicas);
            ps.offlineReplicas = new ArrayList<>();
            topic.partitionStates.add(ps);
        });
        return topic;
    }
}
