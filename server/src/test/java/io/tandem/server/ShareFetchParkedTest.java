package io.tandem.server;

import static io.tandem.server.ShareFetchCalls.fetch;
import static io.tandem.server.ShareFetchCalls.join;

import io.tandem.server.ensemble.TestEnsemble;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.TestTopics;
import io.tandem.server.kafka.purgatory.DelayedOperationPurgatory;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.BooleanSupplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * A ShareFetch parked for records (MaxWaitMs) whose answer can no longer reach its member, because the member's
 * connection closed or the broker is stopping, acquires nothing when it ends: the records stay available to the
 * group, and their delivery counts (stored, so they survive a restart) count only deliveries that were sent. Before,
 * the broker's shutdown answered a parked ShareFetch by acquiring the records its member's closed connection had
 * just released, so after the restart they came back with one delivery too many (the flaky ShareGroupRestartTest).
 */
class ShareFetchParkedTest {
    @TempDir
    Path dir;

    private static TandemConfig config(Path dir, int port) {
        return TandemConfig.forTests(dir).roles(Set.of(TandemConfig.Role.KAFKA)).kafkaPort(port)
                .set("offsets.topic.num.partitions", "1")
                .set("share.coordinator.state.topic.num.partitions", "1");
    }

    private static void produce(Tandem tandem, int count) throws Exception {
        Properties p = new Properties();
        p.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, tandem.bootstrapServers());
        try (KafkaProducer<String, String> producer = new KafkaProducer<>(p, new StringSerializer(),
                new StringSerializer())) {
            for (int i = 0; i < count; i++) producer.send(new ProducerRecord<>("queue", 0, null, "v" + i)).get();
        }
    }

    /** A ShareFetch that waits up to {@code maxWaitMs} for records, sent from another thread: it parks. */
    private static CompletableFuture<Void> parkedFetch(OfficialClientConnection c, String member, int epoch,
                                                       int maxWaitMs, Uuid topicId) {
        return CompletableFuture.runAsync(() -> {
            try {
                fetch(c, member, epoch, maxWaitMs, topicId);
            } catch (Exception e) {
                // Its connection closes before the answer (the point of the tests).
            }
        });
    }

    private static void await(BooleanSupplier condition, String what) throws InterruptedException {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(20);
        while (!condition.getAsBoolean()) {
            assertTrue(System.nanoTime() < deadline, "timed out waiting until " + what);
            Thread.sleep(20);
        }
    }

    @Test
    void aShareFetchParkedAtShutdownShouldNotAcquireTheRecordsItsClosedConnectionReleased() throws Exception {
        int port = TestEnsemble.freePort();
        Uuid topicId;
        CompletableFuture<Void> parked;
        Tandem tandem = Tandem.start(config(dir, port));
        OfficialClientConnection c = new OfficialClientConnection(tandem.kafkaPort());
        try {
            topicId = TestTopics.createWithOneReplica(tandem.bootstrapServers(), "queue");
            join(c, "m1");
            assertEquals(List.of(), fetch(c, "m1", 0, 0, topicId).acquiredRecords(),
                    "share.auto.offset.reset=latest: nothing yet");
            produce(tandem, 3);
            ShareFetchResponseData.PartitionData held = fetch(c, "m1", 1, 0, topicId);
            assertEquals(List.of(new ShareFetchResponseData.AcquiredRecords().setFirstOffset(0).setLastOffset(2)
                    .setDeliveryCount((short) 1)), held.acquiredRecords());
            // m1 holds every record: its next fetch waits, and is still waiting when the broker stops.
            DelayedOperationPurgatory<?> purgatory = tandem.kafkaBroker().fetchPurgatory();
            parked = parkedFetch(c, "m1", 2, 60_000, topicId);
            await(() -> purgatory.watched() > 0, "the fetch parks");
        } finally {
            tandem.close();
        }
        parked.get(30, TimeUnit.SECONDS);
        c.close();
        try (Tandem restarted = Tandem.start(config(dir, port));
             OfficialClientConnection again = new OfficialClientConnection(restarted.kafkaPort())) {
            // The records were delivered once, in the answer m1 got; the parked fetch's answer was never sent.
            assertEquals(List.of(new ShareFetchResponseData.AcquiredRecords().setFirstOffset(0).setLastOffset(2)
                    .setDeliveryCount((short) 2)), fetch(again, "m1", 0, 0, topicId).acquiredRecords());
        }
    }

    @Test
    void aShareFetchParkedWhenItsConnectionClosesShouldLeaveTheRecordsToTheOtherMembers() throws Exception {
        try (Tandem tandem = Tandem.start(config(dir, TestEnsemble.freePort()));
             OfficialClientConnection survivor = new OfficialClientConnection(tandem.kafkaPort())) {
            Uuid topicId = TestTopics.createWithOneReplica(tandem.bootstrapServers(), "queue");
            OfficialClientConnection crashing = new OfficialClientConnection(tandem.kafkaPort());
            join(crashing, "m1");
            join(survivor, "m2");
            assertEquals(List.of(), fetch(crashing, "m1", 0, 0, topicId).acquiredRecords());
            assertEquals(List.of(), fetch(survivor, "m2", 0, 0, topicId).acquiredRecords());
            // m1 waits for records (2 s), and its client dies meanwhile.
            DelayedOperationPurgatory<?> purgatory = tandem.kafkaBroker().fetchPurgatory();
            CompletableFuture<Void> parked = parkedFetch(crashing, "m1", 1, 2_000, topicId);
            await(() -> purgatory.watched() > 0, "the fetch parks");
            crashing.close();
            parked.get(30, TimeUnit.SECONDS);
            await(() -> !tandem.kafkaBroker().shareGroups().sessions().exists("g", "m1"),
                    "m1's session goes with its connection");
            // The records arrive while m1's fetch still waits: it ends (woken, or at its MaxWaitMs) with no one to
            // answer, and takes none of them.
            produce(tandem, 3);
            await(() -> purgatory.watched() == 0, "the parked fetch ends");
            ShareFetchResponseData.PartitionData got = fetch(survivor, "m2", 1, 0, topicId);
            assertEquals(List.of(new ShareFetchResponseData.AcquiredRecords().setFirstOffset(0).setLastOffset(2)
                    .setDeliveryCount((short) 1)), got.acquiredRecords(), "not locked by the dead fetch");
        }
    }
}
