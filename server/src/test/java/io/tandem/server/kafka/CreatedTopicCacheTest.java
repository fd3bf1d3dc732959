package io.tandem.server.kafka;

import static io.tandem.server.kafka.CreationCalls.createPartitions;
import static io.tandem.server.kafka.CreationCalls.createTopic;
import static io.tandem.server.kafka.CreationCalls.grow;
import static io.tandem.server.kafka.CreationCalls.listedTopics;
import static io.tandem.server.kafka.CreationCalls.topicMetadata;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.tandem.server.Tandem;
import io.tandem.server.TandemCluster;
import io.tandem.server.TandemConfig;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.message.CreatePartitionsResponseData.CreatePartitionsTopicResult;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker learns of topics, its own creations included, only from the controller, as Kafka 3.9's ZooKeeper-mode
 * broker, whose MetadataCache only UpdateMetadata fills: between a topic's ZooKeeper write and the controller's word,
 * Metadata answers UNKNOWN_TOPIC_OR_PARTITION (LEADER_NOT_AVAILABLE without partitions when it may auto-create), and
 * a partition never led is not listed. Each case was read off an Apache Kafka 3.9.1 broker with the same requests.
 */
class CreatedTopicCacheTest {
    private static final long WAIT_MS = 30_000;
    private static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path dir;

    @Test
    void shouldNotKnowATopicNoReplicaOfWhichIsLiveAndListOnlyThePartitionsGivenALeader() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort())) {
            // Broker 9 never registers: the controller never elects a leader, so never tells a broker of the topic.
            CreatableTopicResult created = createTopic(connection, "elsewhere", 300, false, List.of(9));
            assertEquals(Errors.REQUEST_TIMED_OUT.code(), created.errorCode(), created.toString());
            MetadataResponseTopic unknown = topicMetadata(connection, false, "elsewhere");
            assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), unknown.errorCode(), unknown.toString());
            assertEquals(List.of(), unknown.partitions());
            assertFalse(listedTopics(connection).contains("elsewhere"));

            // CreatePartitions reads the topic from ZooKeeper: it grows it, onto the live broker, and waits in vain
            // for partition 0's leader. Metadata then lists the topic with its led partition only.
            CreatePartitionsTopicResult grown = createPartitions(connection, 500, grow("elsewhere", 2, null)).get(0);
            assertEquals(Errors.REQUEST_TIMED_OUT.code(), grown.errorCode(), grown.toString());
            MetadataResponseTopic led = await(connection, "elsewhere", t -> t.errorCode() == Errors.NONE.code());
            assertEquals(1, led.partitions().size(), led.toString());
            MetadataResponsePartition partition = led.partitions().get(0);
            assertEquals(1, partition.partitionIndex());
            assertEquals(0, partition.leaderId());
            assertTrue(listedTopics(connection).contains("elsewhere"));
        }
    }

    @Test
    void shouldNotKnowATopicItAutoCreatedUntilTheControllerTellsIt() throws Exception {
        // Broker 2 holds /controller and never acts (a controller stalled between the write and its UpdateMetadata):
        // broker 1 creates the topic, and its Metadata answers must not know it.
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZkZnodeStore zk = ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30));
             SilentBroker silent = new SilentBroker(zk, 2)) {
            assertTrue(zk.create(KafkaZkLayout.CONTROLLER, KafkaZkLayout.encodeController(2, System.currentTimeMillis()),
                    true));
            try (Tandem broker = Tandem.start(TandemConfig.forTests(dir.resolve("kafka"))
                    .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("broker.id", "1")
                    .set("zookeeper.connect", zookeeper.zookeeperConnect()).set("auto.create.topics.enable", "true")
                    .set("num.partitions", "2").set("default.replication.factor", "1")
                    // Its stop would ask the silent controller to move leaderships, in vain.
                    .set("controlled.shutdown.enable", "false"));
                 OfficialClientConnection connection = new OfficialClientConnection(broker.kafkaPort());
                 RawKafkaConnection asController = new RawKafkaConnection(broker.kafkaPort())) {
                // The stalled controller told broker 1 the live brokers once, and no topic: a broker's cache has live
                // brokers only from UpdateMetadata, and with none Kafka's auto-creation refuses the topic
                // (ZkAdminManager places it over metadataCache.getAliveBrokers: INVALID_REPLICATION_FACTOR).
                io.tandem.kafka.wire.message.UpdateMetadataRequest brokers = UpdateMetadataRequests.request(2, 0);
                UpdateMetadataRequests.liveBroker(brokers, 1, "127.0.0.1", broker.kafkaPort());
                UpdateMetadataRequests.liveBroker(brokers, 2, "127.0.0.1", silent.port());
                io.tandem.kafka.wire.ApiKey key = io.tandem.kafka.wire.ApiKey.UPDATE_METADATA;
                var told = (io.tandem.kafka.wire.message.UpdateMetadataResponse) asController.roundTrip(key,
                        (short) 7, key.responseHeaderVersion((short) 7), brokers, key::readResponse);
                assertEquals(Errors.NONE.code(), told.errorCode);
                MetadataResponseTopic first = topicMetadata(connection, true, "made-here");
                assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), first.errorCode(), first.toString());
                assertNotNull(zk.getData(KafkaZkLayout.topicPath("made-here")), "the topic was written");
                assertEquals(2, JSON.readTree(zk.getData(KafkaZkLayout.topicPath("made-here"))).get("partitions").size());

                MetadataResponseTopic unknown = topicMetadata(connection, false, "made-here");
                assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), unknown.errorCode(), unknown.toString());
                MetadataResponseTopic again = topicMetadata(connection, true, "made-here");
                assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), again.errorCode(), again.toString());
                assertEquals(List.of(), again.partitions());
                assertFalse(listedTopics(connection).contains("made-here"));
                silent.close(); // before the broker: its controlled shutdown then fails at once
            }
        }
    }

    @Test
    void shouldLetEveryBrokerOfAClusterLearnTheTopicsItCreatedFromTheController() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 3,
                config -> config.set("auto.create.topics.enable", "true").set("num.partitions", "2"));
             ZkZnodeStore zk = ZkZnodeStore.connect(cluster.zookeeperConnect(), Duration.ofSeconds(10),
                     Duration.ofSeconds(30))) {
            int controller = JSON.readTree(zk.getData(KafkaZkLayout.CONTROLLER)).get("brokerid").asInt();
            for (int creator = 1; creator <= 3; creator++) {
                try (OfficialClientConnection connection = new OfficialClientConnection(cluster.broker(creator).kafkaPort())) {
                    MetadataResponseTopic first = topicMetadata(connection, true, "auto-" + creator);
                    assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), first.errorCode(), first.toString());
                }
            }
            try (Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG,
                    cluster.broker(1).bootstrapServers()))) {
                admin.createTopics(List.of(new NewTopic("admin-made", 3, (short) 3))).all().get(WAIT_MS,
                        TimeUnit.MILLISECONDS);
            }
            // CreateTopics waited for the controller's own cache: its broker knows every leader at once.
            try (OfficialClientConnection connection = new OfficialClientConnection(cluster.broker(controller).kafkaPort())) {
                MetadataResponseTopic known = topicMetadata(connection, false, "admin-made");
                assertEquals(Errors.NONE.code(), known.errorCode(), known.toString());
                assertEquals(3, known.partitions().size());
                for (MetadataResponsePartition p : known.partitions()) assertTrue(p.leaderId() > 0, known.toString());
            }
            for (int broker = 1; broker <= 3; broker++) {
                try (OfficialClientConnection connection = new OfficialClientConnection(cluster.broker(broker).kafkaPort())) {
                    for (String topic : List.of("auto-1", "auto-2", "auto-3", "admin-made")) {
                        MetadataResponseTopic led = await(connection, topic, t -> t.errorCode() == Errors.NONE.code()
                                && !t.partitions().isEmpty() && t.partitions().stream().allMatch(p -> p.leaderId() > 0));
                        assertEquals(topic.equals("admin-made") ? 3 : 2, led.partitions().size(), led.toString());
                        assertEquals(3, led.partitions().get(0).replicaNodes().size(), led.toString());
                    }
                }
            }
        }
    }

    private static MetadataResponseTopic await(OfficialClientConnection connection, String topic,
                                               Predicate<MetadataResponseTopic> done) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            MetadataResponseTopic answer = topicMetadata(connection, false, topic);
            if (done.test(answer)) return answer;
            assertTrue(System.currentTimeMillis() < deadline, "not as expected in time: " + answer);
            Thread.sleep(20);
        }
    }

    /** A registered broker whose listener accepts connections and never answers; its registration ends with it. */
    private static final class SilentBroker implements AutoCloseable {
        private final ServerSocket listener = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
        private final List<Socket> accepted = new CopyOnWriteArrayList<>();

        SilentBroker(ZkZnodeStore zk, int id) throws Exception {
            Thread acceptor = new Thread(() -> {
                try {
                    while (true) accepted.add(listener.accept());
                } catch (IOException closed) {
                    // The test ended.
                }
            }, "silent-broker-listener");
            acceptor.setDaemon(true);
            acceptor.start();
            assertTrue(zk.create(KafkaZkLayout.brokerPath(id), KafkaZkLayout.encodeBroker(
                    new KafkaZkLayout.BrokerRegistration(id, "127.0.0.1", listener.getLocalPort(), "PLAINTEXT", null,
                            System.currentTimeMillis())), true));
        }

        int port() {
            return listener.getLocalPort();
        }

        @Override
        public void close() throws IOException {
            listener.close();
            for (Socket socket : accepted) socket.close();
        }
    }
}
