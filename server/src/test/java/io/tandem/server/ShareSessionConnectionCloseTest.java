package io.tandem.server;

import static io.tandem.server.ShareFetchCalls.fetch;
import static io.tandem.server.ShareFetchCalls.join;

import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.TestTopics;
import io.tandem.server.kafka.group.share.ShareSessions;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A client that goes away without closing its share session (no final epoch; a crash): as Kafka 4.1+'s
 * ShareSessionCache on a disconnect, the session goes with the connection and the records its member held are
 * available to the group's other members at once, not after the acquisition lock (30 s here) expires.
 */
class ShareSessionConnectionCloseTest {
    @TempDir
    Path dir;

    @Test
    void aClosedConnectionShouldDropItsShareSessionAndReleaseItsRecordsAtOnce() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1"))) {
            Uuid topicId = TestTopics.createWithOneReplica(tandem.bootstrapServers(), "queue");
            ShareSessions sessions = tandem.kafkaBroker().shareGroups().sessions();
            try (OfficialClientConnection survivor = new OfficialClientConnection(tandem.kafkaPort())) {
                OfficialClientConnection crashing = new OfficialClientConnection(tandem.kafkaPort());
                join(crashing, "m1");
                join(survivor, "m2");
                assertEquals(List.of(), fetch(crashing, "m1", 0, 0, topicId).acquiredRecords(),
                        "share.auto.offset.reset=latest: nothing yet");
                Properties producerProps = new Properties();
                producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps,
                        new StringSerializer(), new StringSerializer())) {
                    for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>("queue", 0, null, "v" + i)).get();
                }
                ShareFetchResponseData.PartitionData held = fetch(crashing, "m1", 1, 0, topicId);
                assertEquals(1, held.acquiredRecords().size());
                assertEquals(2, held.acquiredRecords().get(0).lastOffset());
                assertEquals(List.of(), fetch(survivor, "m2", 0, 0, topicId).acquiredRecords(), "m1 holds them all");
                assertEquals(2, sessions.size());

                // m1's client dies: its socket closes without a final ShareFetch or ShareAcknowledge.
                crashing.close();
                long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while (sessions.exists("g", "m1")) {
                    assertTrue(System.nanoTime() < deadline, "m1's share session outlived its connection");
                    Thread.sleep(20);
                }
                assertEquals(1, sessions.size(), "only m2's session is left");
                // Well within the 30 s acquisition lock: m2 gets m1's records, delivered a second time. The session
                // goes first and the records are released right after it (written to the share state), so m2 asks
                // again, as a consumer's next poll would, until they come (10 s, a third of the lock).
                ShareFetchResponseData.PartitionData redelivered;
                int epoch = 1;
                deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
                while ((redelivered = fetch(survivor, "m2", epoch++, 0, topicId)).acquiredRecords().isEmpty()
                        && System.nanoTime() < deadline) {
                    Thread.sleep(20);
                }
                assertEquals(1, redelivered.acquiredRecords().size(), "released at once: " + redelivered);
                assertEquals(0, redelivered.acquiredRecords().get(0).firstOffset());
                assertEquals(2, redelivered.acquiredRecords().get(0).lastOffset());
                assertEquals(2, redelivered.acquiredRecords().get(0).deliveryCount());
            }
        }
    }
}
