package io.tandem.server;

import static io.tandem.server.ShareFetchCalls.fetch;
import static io.tandem.server.ShareFetchCalls.join;

import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.TestTopics;
import io.tandem.server.kafka.group.share.SharePartition;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.ShareFetchResponseData;
import org.apache.kafka.common.serialization.StringSerializer;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.Set;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A ShareFetch that found its member's share session open, and whose connection closes (the session goes, the
 * member's records are released) before it acquires: it must acquire nothing. The test holds the share-partition's
 * monitor so the ShareFetch stops right where it acquires, closes the member's session there (the release re-enters
 * the monitor on the test's thread and finds nothing to release), and lets it go on. With the live check made before
 * the monitor, the fetch acquired the records for a member that is gone, and they stayed locked from the group's
 * other members until the acquisition lock (30 s) expired.
 */
class ShareFetchSessionCloseRaceTest {
    @TempDir
    Path dir;

    /** Whether some thread waits for the share-partition's monitor in an acquisition. */
    private static boolean blockedInAcquire() {
        for (Map.Entry<Thread, StackTraceElement[]> e : Thread.getAllStackTraces().entrySet()) {
            if (e.getKey().getState() != Thread.State.BLOCKED) continue;
            if (Arrays.stream(e.getValue()).anyMatch(f -> f.getClassName().equals(SharePartition.class.getName())
                    && f.getMethodName().equals("acquire"))) {
                return true;
            }
        }
        return false;
    }

    @Test
    void aShareFetchWhoseSessionClosesBeforeItAcquiresShouldAcquireNothing() throws Exception {
        try (Tandem tandem = Tandem.start(TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA))
                .set("offsets.topic.num.partitions", "1"))) {
            Uuid topicId = TestTopics.createWithOneReplica(tandem.bootstrapServers(), "queue");
            try (OfficialClientConnection gone = new OfficialClientConnection(tandem.kafkaPort());
                 OfficialClientConnection other = new OfficialClientConnection(tandem.kafkaPort())) {
                join(gone, "m1");
                join(other, "m2");
                assertEquals(List.of(), fetch(gone, "m1", 0, 0, topicId).acquiredRecords(),
                        "share.auto.offset.reset=latest: nothing yet");
                Properties producerProps = new Properties();
                producerProps.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
                try (KafkaProducer<String, String> producer = new KafkaProducer<>(producerProps,
                        new StringSerializer(), new StringSerializer())) {
                    for (int i = 0; i < 3; i++) producer.send(new ProducerRecord<>("queue", 0, null, "v" + i)).get();
                }
                var partitions = tandem.kafkaBroker().shareGroups().partitions();
                SharePartition sp = partitions.loaded("g",
                        new UUID(topicId.getMostSignificantBits(), topicId.getLeastSignificantBits()), 0);
                assertNotNull(sp, "loaded by m1's first fetch");

                CompletableFuture<ShareFetchResponseData.PartitionData> racing;
                synchronized (sp) {
                    racing = CompletableFuture.supplyAsync(() -> {
                        try {
                            return fetch(gone, "m1", 1, 0, topicId);
                        } catch (Exception e) {
                            throw new RuntimeException(e);
                        }
                    });
                    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
                    while (!blockedInAcquire()) {
                        assertTrue(System.nanoTime() < deadline, "the fetch never reached its acquisition");
                        Thread.sleep(5);
                    }
                    // What the connection's close does (ShareSessions.connectionClosed, then the release), for m1:
                    // its session goes, and its records (none yet) are released, re-entering the monitor.
                    partitions.closeSession("g", "m1");
                }
                ShareFetchResponseData.PartitionData late = racing.get(30, TimeUnit.SECONDS);
                assertEquals(List.of(), late.acquiredRecords(), "acquired for a member whose session is gone");

                ShareFetchResponseData.PartitionData redelivered = fetch(other, "m2", 0, 0, topicId);
                assertEquals(1, redelivered.acquiredRecords().size(), "still available: " + redelivered);
                assertEquals(0, redelivered.acquiredRecords().get(0).firstOffset());
                assertEquals(2, redelivered.acquiredRecords().get(0).lastOffset());
                assertEquals(1, redelivered.acquiredRecords().get(0).deliveryCount(), "never delivered before");
            }
        }
    }
}
