package io.tandem.server;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.client.KafkaConnection;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.CreateTopicsRequest;
import io.tandem.kafka.wire.message.CreateTopicsResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.ZkZnodeStore;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A broker's topics come from the controller's UpdateMetadata only, as Kafka 3.9's ZkMetadataCache: it starts empty
 * and nothing reads {@code /brokers/topics} into it. So a broker that registered and has heard nothing from a
 * controller answers Metadata as Kafka's KafkaApis does on an empty cache: no topic for all topics, a named topic
 * UNKNOWN_TOPIC_OR_PARTITION with the zero topic id, and, with auto-creation, ZkAdminManager's placement over no live
 * brokers refuses it (INVALID_REPLICATION_FACTOR) before ZooKeeper is read, so the stored topic is left alone. Its
 * logs on disk open at start-up all the same (Kafka's LogManager). Tandem's broker used to read every topic with its
 * partition states from ZooKeeper when it started, and answered them with leaders its empty broker list lacked.
 */
class TopicsFromUpdateMetadataTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(30);
    private static final UUID ZERO_UUID = new UUID(0, 0);
    private static final String TOPIC = "settled";

    @TempDir
    Path dir;

    @Test
    void shouldKnowNoTopicBeforeTheControllersFirstUpdateMetadata() throws Exception {
        try (Tandem zookeeper = startZooKeeper();
             ZkZnodeStore store = connect(zookeeper)) {
            try (Tandem first = startBroker(zookeeper, 1);
                 KafkaConnection client = client(first)) {
                assertEquals(Errors.NONE.code(), create(client, TOPIC), "broker 1 alone creates the topic");
                awaitLed(client, 1, "broker 1, its own controller");
            }
            byte[] assignment = store.getData(KafkaZkLayout.topicPath(TOPIC));
            assertNotNull(assignment);
            // A controller that never sends anything holds /controller (once broker 1's session let it go), so the
            // brokers below register and hear from no controller.
            holdController(store);
            try (Tandem again = startBroker(zookeeper, 1);
                 Tandem second = startBroker(zookeeper, 2);
                 KafkaConnection toAgain = client(again);
                 KafkaConnection toSecond = client(second)) {
                assertNotNull(again.kafkaBroker().logs().get(new TopicPartition(TOPIC, 0)),
                        "the replica on disk opened at start-up, before any LeaderAndIsr");
                for (KafkaConnection client : List.of(toAgain, toSecond)) {
                    assertEquals(List.of(), allTopics(client), "no topic before any UpdateMetadata");
                    MetadataResponse.MetadataResponseTopic unknown = named(client, false);
                    assertEquals(Errors.UNKNOWN_TOPIC_OR_PARTITION.code(), unknown.errorCode);
                    assertEquals(ZERO_UUID, unknown.topicId);
                    assertEquals(List.of(), unknown.partitions);
                    assertEquals(Errors.INVALID_REPLICATION_FACTOR.code(), named(client, true).errorCode,
                            "auto-creation places replicas over the cache's brokers, none yet");
                }
                assertArrayEquals(assignment, store.getData(KafkaZkLayout.topicPath(TOPIC)),
                        "the stored topic is left as it was");

                // The stand-in goes: a broker wins, and its UpdateMetadata brings the topic to both.
                store.deleteRecursive(KafkaZkLayout.CONTROLLER);
                awaitLed(toAgain, 1, "the new controller's UpdateMetadata");
                awaitLed(toSecond, 1, "the new controller's UpdateMetadata");
            }
        }
    }

    private static void holdController(ZkZnodeStore store) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (!store.create(KafkaZkLayout.CONTROLLER, KafkaZkLayout.encodeController(99, System.currentTimeMillis()),
                true)) {
            assertTrue(System.nanoTime() < deadline, "/controller never freed");
            Thread.sleep(20);
        }
    }

    private Tandem startZooKeeper() throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("zookeeper"))
                .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
    }

    private Tandem startBroker(Tandem zookeeper, int id) throws Exception {
        return Tandem.start(TandemConfig.forTests(dir.resolve("broker" + id))
                .roles(EnumSet.of(TandemConfig.Role.KAFKA))
                .set("broker.id", Integer.toString(id))
                .set("zookeeper.connect", zookeeper.zookeeperConnect())
                // As TandemCluster's brokers: a broker closed after the controller's broker retries its controlled
                // shutdown after this, not after Kafka's default 5 s.
                .set("controlled.shutdown.retry.backoff.ms", "100"));
    }

    private static ZkZnodeStore connect(Tandem zookeeper) throws Exception {
        return ZkZnodeStore.connect(zookeeper.zookeeperConnect(), Duration.ofSeconds(10), TIMEOUT);
    }

    private static KafkaConnection client(Tandem broker) throws Exception {
        return KafkaConnection.open(new InetSocketAddress("127.0.0.1", broker.kafkaPort()), "topics-cache-test",
                TIMEOUT, 1 << 20);
    }

    private static short create(KafkaConnection client, String topic) {
        CreateTopicsRequest request = new CreateTopicsRequest();
        request.timeoutMs = (int) TIMEOUT.toMillis();
        CreateTopicsRequest.CreatableTopic created = new CreateTopicsRequest.CreatableTopic();
        created.name = topic;
        created.numPartitions = 1;
        created.replicationFactor = 1;
        request.topics.add(created);
        CreateTopicsResponse response = client.send(request, TIMEOUT);
        return response.topics.get(0).errorCode;
    }

    private static List<String> allTopics(KafkaConnection client) {
        MetadataResponse response = client.send(new MetadataRequest().setTopics(null), TIMEOUT);
        List<String> names = new ArrayList<>();
        response.topics.forEach(t -> names.add(t.name));
        return names;
    }

    private static MetadataResponse.MetadataResponseTopic named(KafkaConnection client, boolean autoCreate) {
        MetadataRequest.MetadataRequestTopic wanted = new MetadataRequest.MetadataRequestTopic();
        wanted.name = TOPIC;
        MetadataRequest request = new MetadataRequest().setAllowAutoTopicCreation(autoCreate);
        request.topics.add(wanted);
        MetadataResponse response = client.send(request, TIMEOUT);
        assertEquals(1, response.topics.size());
        return response.topics.get(0);
    }

    /** Asks until the topic's partition 0 is led by {@code leader} in the broker's answer. */
    private static void awaitLed(KafkaConnection client, int leader, String what) throws Exception {
        long deadline = System.nanoTime() + TIMEOUT.toNanos();
        while (true) {
            MetadataResponse.MetadataResponseTopic topic = named(client, false);
            if (topic.errorCode == Errors.NONE.code() && topic.partitions.size() == 1
                    && topic.partitions.get(0).leaderId == leader) {
                return;
            }
            assertTrue(System.nanoTime() < deadline, what + ": the topic never led by " + leader + ", last " + topic);
            Thread.sleep(20);
        }
    }
}
