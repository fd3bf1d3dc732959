package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.FindCoordinatorRequest;
import io.tandem.kafka.wire.message.FindCoordinatorResponse;
import io.tandem.kafka.wire.message.MetadataRequest;
import io.tandem.kafka.wire.message.MetadataResponse;
import io.tandem.server.Tandem;
import io.tandem.server.TandemConfig;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.TempDir;

/**
 * Metadata and FindCoordinator are answered from the broker's metadata cache, as Kafka's MetadataCache answers them:
 * no ZooKeeper request at all, whatever the version, for all topics, named ones and a missing one (auto-creation
 * off); so are the other requests naming a topic the broker does not know ({@link MissingTopicRequests}). The broker reaches its ZooKeeper through a relay that records every request but pings, so anything the
 * broker reads (or writes) there while it answers is seen; a topic created afterwards proves the relay sees them.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class MetadataReadsNoZooKeeperTest {
    private static final short[] METADATA_VERSIONS = {0, 1, 4, 7, 9, 10, 12};
    private static final short[] FIND_COORDINATOR_VERSIONS = {0, 1, 3, 4};
    private static final byte GROUP = 0;
    private static final byte TRANSACTION = 1;

    @Test
    void metadataAndFindCoordinatorNeverSendARequestToZooKeeper(@TempDir Path dir) throws Exception {
        try (Tandem zookeeper = Tandem.start(TandemConfig.forTests(dir.resolve("zk"))
                     .roles(EnumSet.of(TandemConfig.Role.ZOOKEEPER)));
             ZooKeeperRequestRecorder recorder = new ZooKeeperRequestRecorder(zookeeper.zookeeperConnect(),
                     Set.of());
             Tandem broker = Tandem.start(TandemConfig.forTests(dir.resolve("broker"))
                     .roles(EnumSet.of(TandemConfig.Role.KAFKA)).set("broker.id", "1")
                     .set("zookeeper.connect", recorder.connectString()).set("auto.create.topics.enable", "false")
                     .set("offsets.topic.replication.factor", "1").set("transaction.state.log.replication.factor", "1")
                     .set("transaction.state.log.min.isr", "1"));
             Admin admin = Admin.create(Map.of(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, broker.bootstrapServers()));
             RawKafkaConnection connection = new RawKafkaConnection(broker.kafkaPort())) {
            assertFalse(recorder.since(0).isEmpty(), "the broker's start-up went through the relay");
            admin.createTopics(List.of(new NewTopic("first", 2, (short) 1), new NewTopic("second", 1, (short) 1)))
                    .all().get(30, TimeUnit.SECONDS);
            // The coordinators' topics are created by their first lookup (a ZooKeeper write, as in Kafka): done here,
            // before counting, and waited for until they lead.
            awaitCoordinator(connection, GROUP, "group");
            awaitCoordinator(connection, TRANSACTION, "transactional-id");
            recorder.awaitQuiet(2_000, 20_000);

            int mark = recorder.mark();
            for (int round = 0; round < 3; round++) {
                for (short version : METADATA_VERSIONS) {
                    MetadataResponse all = metadata(connection, version, null);
                    assertTrue(names(all).containsAll(Set.of("first", "second")), "v" + version + ": " + names(all));
                    MetadataResponse named = metadata(connection, version, List.of("first", "second", "missing"));
                    assertEquals(List.of((short) 0, (short) 0, (short) 3), // UNKNOWN_TOPIC_OR_PARTITION
                            named.topics.stream().map(t -> t.errorCode).toList(), "v" + version);
                    assertEquals(2, named.topics.get(0).partitions.size());
                }
                for (short version : FIND_COORDINATOR_VERSIONS) {
                    assertEquals(0, findCoordinator(connection, version, GROUP, "group"), "v" + version);
                    assertEquals(0, findCoordinator(connection, version, TRANSACTION, "transactional-id"),
                            "v" + version);
                }
            }
            assertEquals(List.of(), recorder.since(mark), "ZooKeeper requests sent while answering Metadata and "
                    + "FindCoordinator");

            // Every other request naming a topic is answered from the cache too: one the broker does not know is
            // UNKNOWN_TOPIC_OR_PARTITION at once, however often a client asks (it read ZooKeeper per request).
            int missingMark = recorder.mark();
            for (int round = 0; round < 3; round++) {
                Map<String, Short> errors = MissingTopicRequests.errors(connection, "missing");
                errors.forEach((api, error) -> assertEquals((short) 3, error, api + " for a missing topic"));
                assertEquals(MissingTopicRequests.APIS, errors.keySet(), "every API was asked");
            }
            assertEquals(List.of(), recorder.since(missingMark), "ZooKeeper requests sent while answering requests "
                    + "for a topic the broker does not know");
            // CreatePartitions reads the topic from ZooKeeper (Kafka 3.9's ZkAdminManager does: it grows a topic its
            // cache does not hold), and answers a missing one UNKNOWN_TOPIC_OR_PARTITION.
            assertEquals((short) 3, MissingTopicRequests.createPartitionsError(connection, "missing"));

            // The relay sees what the broker does send: a new topic is written to ZooKeeper.
            int beforeCreate = recorder.mark();
            admin.createTopics(List.of(new NewTopic("third", 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            assertTrue(recorder.since(beforeCreate).stream().anyMatch(r -> r.contains("/brokers/topics/third")),
                    "the relay recorded the topic's creation: " + recorder.since(beforeCreate));
            admin.close(Duration.ofSeconds(5));
        }
    }

    private static MetadataResponse metadata(RawKafkaConnection connection, short version, List<String> topics)
            throws Exception {
        MetadataRequest request = new MetadataRequest();
        // v0 asks for every topic with an empty list, later versions with null.
        request.topics = topics == null ? (version == 0 ? new ArrayList<>() : null) : new ArrayList<>();
        if (topics != null) {
            for (String name : topics) {
                MetadataRequest.MetadataRequestTopic wanted = new MetadataRequest.MetadataRequestTopic();
                wanted.name = name;
                request.topics.add(wanted);
            }
        }
        request.allowAutoTopicCreation = false;
        return connection.roundTrip(ApiKey.METADATA, version, ApiKey.METADATA.responseHeaderVersion(version), request,
                MetadataResponse::read);
    }

    private static Set<String> names(MetadataResponse response) {
        Set<String> names = new TreeSet<>();
        response.topics.forEach(t -> names.add(t.name));
        return names;
    }

    /** The error of the lookup: one key (v0-v3, groups only at v0) or one coordinator key (v4+). */
    private static short findCoordinator(RawKafkaConnection connection, short version, byte keyType, String key)
            throws Exception {
        if (version == 0 && keyType != GROUP) return 0;
        FindCoordinatorRequest request = new FindCoordinatorRequest();
        request.keyType = keyType;
        if (version >= 4) {
            request.coordinatorKeys = new ArrayList<>(List.of(key));
        } else {
            request.key = key;
        }
        FindCoordinatorResponse response = connection.roundTrip(ApiKey.FIND_COORDINATOR, version,
                ApiKey.FIND_COORDINATOR.responseHeaderVersion(version), request, FindCoordinatorResponse::read);
        return version >= 4 ? response.coordinators.get(0).errorCode : response.errorCode;
    }

    private static void awaitCoordinator(RawKafkaConnection connection, byte keyType, String key) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (findCoordinator(connection, (short) 4, keyType, key) != 0) {
            assertTrue(System.currentTimeMillis() < deadline, "no coordinator for " + key);
            Thread.sleep(100);
        }
    }
}
