package io.tandem.server.kafka;

import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.Config;
import org.apache.kafka.common.config.ConfigResource;
import org.apache.kafka.common.message.CreateTopicsRequestData;
import org.apache.kafka.common.message.CreateTopicsResponseData.CreatableTopicResult;
import org.apache.kafka.common.message.FindCoordinatorRequestData;
import org.apache.kafka.common.message.FindCoordinatorResponseData.Coordinator;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponsePartition;
import org.apache.kafka.common.message.MetadataResponseData.MetadataResponseTopic;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.CreateTopicsRequest;
import org.apache.kafka.common.requests.CreateTopicsResponse;
import org.apache.kafka.common.requests.FindCoordinatorRequest;
import org.apache.kafka.common.requests.FindCoordinatorResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.apache.kafka.common.Uuid;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

/**
 * Topics made on first use answer at once, as Kafka 3.9's ZooKeeper-mode broker answers (KafkaApis.getCoordinator and
 * getTopicMetadata, AutoTopicCreationManager with a timeout of 0): the znodes are written and the request is answered
 * without waiting for the new partitions' leaders, FindCoordinator with COORDINATOR_NOT_AVAILABLE and Metadata with
 * LEADER_NOT_AVAILABLE (no partitions), which clients retry until the controller has elected the leaders. Also
 * CreateTopics with a manual assignment naming a broker that is not registered, which Kafka 3.9 takes.
 */
class FirstUseCreationTest {
    private static final long WAIT_MS = 30_000;

    @TempDir
    Path dir;

    private static TandemConfig config(Path dir) {
        return TandemConfig.forTests(dir).set("auto.create.topics.enable", "true").set("num.partitions", "2")
                .set("offsets.topic.num.partitions", "3").set("transaction.state.log.num.partitions", "4")
                .set("offsets.topic.replication.factor", "1").set("transaction.state.log.replication.factor", "1")
                .set("transaction.state.log.min.isr", "1")
                // As TandemCluster's brokers: the broker stopping at the end of a case that leaves it leading a
                // partition with an offline second replica (half-live) retries its controlled shutdown 100 ms apart,
                // not 5 s (Kafka's default), before it stops anyway.
                .set("controlled.shutdown.retry.backoff.ms", "100");
    }

    @Test
    void shouldAnswerLeaderNotAvailableForAnAutoCreatedTopicThenItsLeaders() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort())) {
            MetadataResponseTopic first = metadata(connection, "made-by-metadata");
            assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), first.errorCode(), first.toString());
            assertEquals(List.of(), first.partitions(), "no partitions until the leaders are known");
            assertEquals(Uuid.ZERO_UUID, first.topicId());
            assertFalse(first.isInternal());

            MetadataResponseTopic led = awaitMetadata(connection, "made-by-metadata",
                    t -> t.errorCode() == Errors.NONE.code() && t.partitions().stream().allMatch(p -> p.leaderId() >= 0));
            assertEquals(2, led.partitions().size(), "num.partitions");
            assertFalse(Uuid.ZERO_UUID.equals(led.topicId()));
        }
    }

    @Test
    void shouldAutoCreateAnInternalTopicWithItsOwnLayoutAndConfigs() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort());
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers()))) {
            MetadataResponseTopic first = metadata(connection, "__transaction_state");
            assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), first.errorCode(), first.toString());
            assertTrue(first.isInternal());

            // Kafka's AutoTopicCreationManager.creatableTopic: the transaction coordinator's partitions and configs.
            MetadataResponseTopic led = awaitMetadata(connection, "__transaction_state",
                    t -> t.errorCode() == Errors.NONE.code() && t.partitions().stream().allMatch(p -> p.leaderId() >= 0));
            assertEquals(4, led.partitions().size(), "transaction.state.log.num.partitions");
            assertTrue(led.isInternal());
            ConfigResource resource = new ConfigResource(ConfigResource.Type.TOPIC, "__transaction_state");
            Config configs = admin.describeConfigs(List.of(resource)).all().get(WAIT_MS, TimeUnit.MILLISECONDS)
                    .get(resource);
            assertEquals("compact", configs.get("cleanup.policy").value());
            assertEquals("uncompressed", configs.get("compression.type").value());
        }
    }

    @Test
    void shouldAnswerCoordinatorNotAvailableWhileTheInternalTopicIsMadeThenTheCoordinator() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort())) {
            for (byte keyType : new byte[] {0, 1}) {
                Coordinator first = findCoordinator(connection, keyType, "key-" + keyType);
                assertEquals(Errors.COORDINATOR_NOT_AVAILABLE.code(), first.errorCode(),
                        "key type " + keyType + ": the topic is created, not waited for: " + first);
                assertEquals(-1, first.nodeId());
                long deadline = System.currentTimeMillis() + WAIT_MS;
                Coordinator found = first;
                while (found.errorCode() != Errors.NONE.code()) {
                    assertEquals(Errors.COORDINATOR_NOT_AVAILABLE.code(), found.errorCode(), found.toString());
                    if (System.currentTimeMillis() > deadline) fail("no coordinator for key type " + keyType);
                    Thread.sleep(20);
                    found = findCoordinator(connection, keyType, "key-" + keyType);
                }
                assertEquals(0, found.nodeId());
                assertEquals(tandem.kafkaPort(), found.port());
            }
        }
    }

    @Test
    void shouldCreateATopicWhoseAssignmentNamesABrokerThatIsNotRegistered() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir));
             OfficialClientConnection connection = new OfficialClientConnection(tandem.kafkaPort())) {
            // Kafka 3.9 (ZkAdminManager.createTopics) does not check a manual assignment's brokers: broker 9 is a
            // replica that is offline until it registers; the live replica leads.
            CreatableTopicResult halfLive = createTopic(connection, "half-live", 30_000, List.of(0, 9));
            assertEquals(Errors.NONE.code(), halfLive.errorCode(), halfLive.toString());
            assertEquals(2, halfLive.replicationFactor());
            MetadataResponsePartition partition = awaitMetadata(connection, "half-live",
                    t -> t.errorCode() == Errors.NONE.code() && t.partitions().get(0).leaderId() == 0)
                    .partitions().get(0);
            assertEquals(List.of(0, 9), partition.replicaNodes());
            assertEquals(List.of(0), partition.isrNodes());
            assertEquals(List.of(9), partition.offlineReplicas());

            // No replica is live: the topic is created, its partition leaderless, and the answer times out as
            // Kafka's does when the leaders do not come in time. The controller never tells a broker of a partition it
            // gave no leader, so Metadata (allowed to auto-create here) finds the topic already written and answers
            // LEADER_NOT_AVAILABLE without partitions, as Apache Kafka 3.9.1 does.
            CreatableTopicResult offline = createTopic(connection, "offline", 300, List.of(9));
            assertEquals(Errors.REQUEST_TIMED_OUT.code(), offline.errorCode(), offline.toString());
            MetadataResponseTopic leaderless = metadata(connection, "offline");
            assertEquals(Errors.LEADER_NOT_AVAILABLE.code(), leaderless.errorCode(), leaderless.toString());
            assertEquals(List.of(), leaderless.partitions());

            // The checks Kafka 3.9's AdminZkClient.validateTopicCreate does make, in its words.
            CreatableTopicResult uneven = createTopic(connection, "uneven", 30_000, List.of(0), List.of(0, 9));
            assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT.code(), uneven.errorCode());
            assertEquals("All partitions should have the same number of replicas", uneven.errorMessage());
            CreatableTopicResult twice = createTopic(connection, "twice", 30_000, List.of(9, 9));
            assertEquals(Errors.INVALID_REPLICA_ASSIGNMENT.code(), twice.errorCode());
            assertTrue(twice.errorMessage().startsWith("Duplicate replica assignment found: "), twice.errorMessage());
        }
    }

    @SafeVarargs
    private static CreatableTopicResult createTopic(OfficialClientConnection connection, String name, int timeoutMs,
                                                    List<Integer>... replicas) throws Exception {
        CreateTopicsRequestData.CreatableTopic topic = new CreateTopicsRequestData.CreatableTopic().setName(name)
                .setNumPartitions(-1).setReplicationFactor((short) -1);
        for (int p = 0; p < replicas.length; p++) {
            topic.assignments().add(new CreateTopicsRequestData.CreatableReplicaAssignment().setPartitionIndex(p)
                    .setBrokerIds(replicas[p]));
        }
        CreateTopicsRequestData data = new CreateTopicsRequestData().setTimeoutMs(timeoutMs);
        data.topics().add(topic);
        CreateTopicsResponse response = connection.call(new CreateTopicsRequest.Builder(data).build((short) 7));
        return response.data().topics().find(name);
    }

    private static MetadataResponseTopic metadata(OfficialClientConnection connection, String topic) throws Exception {
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(true)
                .setTopics(List.of(new MetadataRequestData.MetadataRequestTopic().setName(topic)));
        MetadataResponse response = connection.call(new MetadataRequest.Builder(data).build((short) 12));
        return response.data().topics().find(topic);
    }

    private static MetadataResponseTopic awaitMetadata(OfficialClientConnection connection, String topic,
                                                       Predicate<MetadataResponseTopic> done) throws Exception {
        long deadline = System.currentTimeMillis() + WAIT_MS;
        while (true) {
            MetadataResponseTopic answer = metadata(connection, topic);
            if (done.test(answer)) return answer;
            if (System.currentTimeMillis() > deadline) fail("not as expected in time: " + answer);
            Thread.sleep(20);
        }
    }

    private static Coordinator findCoordinator(OfficialClientConnection connection, byte keyType, String key)
            throws Exception {
        FindCoordinatorRequestData data = new FindCoordinatorRequestData().setKeyType(keyType)
                .setCoordinatorKeys(List.of(key));
        FindCoordinatorResponse response = connection.call(new FindCoordinatorRequest.Builder(data).build((short) 4));
        return response.data().coordinators().get(0);
    }
}
