package io.tandem.server;

import static io.tandem.server.ShareFetchCalls.fetch;
import static org.junit.jupiter.api.Assertions.*;

import io.tandem.server.ensemble.TestEnsemble;
import io.tandem.server.kafka.GroupCoordinators;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.TestTopics;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.message.ShareGroupHeartbeatRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.ShareGroupHeartbeatRequest;
import org.apache.kafka.common.requests.ShareGroupHeartbeatResponse;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * A share-partition the group coordinator has not initialized is not the share-partition leader's to create, as in
 * Kafka 4.4: its share coordinator refuses the leader's ReadShareGroupState (INVALID_REQUEST "Read operation on
 * uninitialized share partition not allowed."), SharePartition.fetchPersisterError makes that an
 * UnknownServerException with the same message, and the ShareFetch answers the partition UNKNOWN_SERVER_ERROR with it,
 * keeping nothing, so a later fetch reads again. Before, the leader initialized the share-partition itself, which the
 * heartbeat's initialization under way could then overwrite at the group epoch, fencing what the fetch had loaded.
 * A raw client, since a share consumer fetches only the share-partitions it was assigned, which are initialized.
 */
class ShareFetchUninitializedTest {
    @TempDir
    Path dir;

    private static ShareGroupHeartbeatResponse heartbeat(OfficialClientConnection c, int epoch, List<String> topics)
            throws Exception {
        ShareGroupHeartbeatResponse r = c.call(new ShareGroupHeartbeatRequest.Builder(
                new ShareGroupHeartbeatRequestData().setGroupId("g").setMemberId("m1").setMemberEpoch(epoch)
                        .setSubscribedTopicNames(topics)).build((short) 1));
        assertEquals(Errors.NONE.code(), r.data().errorCode(), r.data().errorMessage());
        return r;
    }

    @Test
    void aShareFetchOfAPartitionNotInitializedShouldFailWithoutCreatingItsState() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .kafkaPort(TestEnsemble.freePort()).set("offsets.topic.num.partitions", "1")
                .set("share.coordinator.state.topic.num.partitions", "1"));
             OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort())) {
            TestTopics.createWithOneReplica(tandem.bootstrapServers(), "queue");
            Uuid other = TestTopics.createWithOneReplica(tandem.bootstrapServers(), "other");
            GroupCoordinators.await(c, "g");
            // m1 is a member, subscribed to "queue" only: "other" is not one of the group's share-partitions yet.
            int epoch = heartbeat(c, 0, List.of("queue")).data().memberEpoch();
            produce(tandem, 0, 3);

            ShareFetchResponseData.PartitionData refused = fetch(c, "m1", 0, 0, other);
            assertEquals(Errors.UNKNOWN_SERVER_ERROR.code(), refused.errorCode());
            assertEquals("Read operation on uninitialized share partition not allowed.", refused.errorMessage());
            assertEquals(List.of(), refused.acquiredRecords());
            assertNull(tandem.kafkaBroker().shareGroups().partitions().loaded("g",
                    new java.util.UUID(other.getMostSignificantBits(), other.getLeastSignificantBits()), 0),
                    "a share-partition that failed to load is not kept");
            assertFalse(tandem.kafkaBroker().shareState().keys("g").stream().anyMatch(k -> k.topicId().equals(
                    new java.util.UUID(other.getMostSignificantBits(), other.getLeastSignificantBits()))),
                    "the fetch created no state at the share coordinator");

            // The member subscribes to "other": the heartbeat initializes it (at -1, a topic new to the group), and
            // the next fetches are served, latest (the high watermark at the first load, 3) decided then.
            heartbeat(c, epoch, List.of("queue", "other"));
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
            int sessionEpoch = 1;
            ShareFetchResponseData.PartitionData served;
            while (true) {
                served = fetch(c, "m1", sessionEpoch++, 0, other);
                if (served.errorCode() == Errors.NONE.code()) break;
                assertEquals(Errors.UNKNOWN_SERVER_ERROR.code(), served.errorCode(), served.errorMessage());
                assertTrue(System.nanoTime() < deadline, "the heartbeat never initialized the share-partition");
                Thread.sleep(20);
            }
            assertEquals(List.of(), served.acquiredRecords());
            produce(tandem, 3, 2);
            assertEquals(List.of(new ShareFetchResponseData.AcquiredRecords().setFirstOffset(3).setLastOffset(4)
                    .setDeliveryCount((short) 1)), fetch(c, "m1", sessionEpoch, 0, other).acquiredRecords());
        }
    }

    private static void produce(Tandem tandem, int first, int count) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int i = first; i < first + count; i++) {
                producer.send(new ProducerRecord<>("other", 0, null, "v" + i)).get();
            }
        }
    }
}
