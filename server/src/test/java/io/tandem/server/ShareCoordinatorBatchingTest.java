package io.tandem.server;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.PartitionWaits;
import io.tandem.server.kafka.group.share.ShareCoordinatorPersister;
import io.tandem.server.kafka.group.share.SharePersister;
import io.tandem.server.kafka.group.share.state.ShareCoordinatorChannels;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AlterConfigOp;
import org.apache.kafka.clients.admin.ConfigEntry;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.consumer.AcknowledgeType;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaShareConsumer;
import org.apache.kafka.common.config.ConfigResource;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.tandem.server.ShareClusterClients.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A share group whose share-partitions are all led by one broker while their state lives at a share coordinator on
 * another: the leader's persister sends its calls to that coordinator batched, as Kafka's PersisterStateManager does,
 * one ReadShareGroupState (or ReadShareGroupStateSummary, ...) carrying every share-partition queued for the node at
 * once, not one request per share-partition. KafkaShareConsumer consumes every partition, acknowledges, and gets a
 * released record again; the requests the leader sent to the share coordinator are counted. Then the coordinator
 * lookups: NOT_COORDINATOR makes the persister look the coordinator up again, by FindCoordinator when its metadata
 * has no leader, whose answer it keeps.
 */
class ShareCoordinatorBatchingTest {
    private static final Duration PATIENCE = Duration.ofSeconds(90);
    private static final String TOPIC = "wide";
    private static final String GROUP = "batched";
    private static final int PARTITIONS = 12, RECORDS = 3;

    @TempDir
    Path dir;

    @Test
    void callsToOneShareCoordinatorShouldBeBatchedIntoFewRequests() throws Exception {
        try (TandemCluster cluster = startWithOneShareCoordinator(dir, 3);
             Admin admin = admin(cluster)) {
            // One state partition: every share-partition's state is at this one share coordinator.
            int shareCoordinator = shareCoordinator(cluster);
            int leaderBroker = shareCoordinator % 3 + 1;
            Map<Integer, List<Integer>> assignment = new TreeMap<>();
            for (int p = 0; p < PARTITIONS; p++) assignment.put(p, List.of(leaderBroker));
            admin.createTopics(List.of(new NewTopic(TOPIC, assignment))).all().get(30, TimeUnit.SECONDS);
            UUID topicId = toUuid(PartitionWaits.describe(admin, TOPIC).topicId());
            for (int p = 0; p < PARTITIONS; p++) PartitionWaits.awaitIsrSize(admin, cluster, TOPIC, p, 1);
            admin.incrementalAlterConfigs(Map.of(new ConfigResource(ConfigResource.Type.GROUP, GROUP),
                    List.of(new AlterConfigOp(new ConfigEntry("share.auto.offset.reset", "earliest"),
                            AlterConfigOp.OpType.SET)))).all().get(30, TimeUnit.SECONDS);
            produce(cluster, TOPIC, PARTITIONS, RECORDS, "v");

            ShareCoordinatorPersister persister = cluster.broker(leaderBroker).kafkaBroker().sharePersister();
            long readsBefore = persister.requestsSent(ApiKey.READ_SHARE_GROUP_STATE);
            // Everything is delivered and accepted, but one record goes back once (RELEASE) and comes again.
            Map<String, Short> delivered = new TreeMap<>();
            String releasedId = "0:" + (RECORDS - 1);
            long deadline = System.nanoTime() + PATIENCE.toNanos();
            try (KafkaShareConsumer<String, String> consumer = shareConsumer(cluster, GROUP)) {
                consumer.subscribe(List.of(TOPIC));
                while (delivered.size() < PARTITIONS * RECORDS
                        || !Short.valueOf((short) 2).equals(delivered.get(releasedId))) {
                    assertTrue(System.nanoTime() < deadline, "delivered only " + delivered);
                    for (ConsumerRecord<String, String> r : consumer.poll(Duration.ofMillis(200))) {
                        String id = r.partition() + ":" + r.offset();
                        Short before = delivered.put(id, r.deliveryCount().orElseThrow());
                        if (id.equals(releasedId) && before == null) {
                            consumer.acknowledge(r, AcknowledgeType.RELEASE);
                        } else {
                            assertTrue(before == null || id.equals(releasedId), "delivered twice: " + id);
                            consumer.acknowledge(r, AcknowledgeType.ACCEPT);
                        }
                    }
                    consumer.commitSync(Duration.ofSeconds(30));
                }
            }
            for (int p = 0; p < PARTITIONS; p++) {
                assertNotNull(cluster.broker(leaderBroker).kafkaBroker().shareGroups().partitions()
                        .loaded(GROUP, topicId, p), "share-partition " + p + " is served by its leader");
            }
            long reads = persister.requestsSent(ApiKey.READ_SHARE_GROUP_STATE) - readsBefore;
            System.out.println("ReadShareGroupState requests for " + PARTITIONS + " share-partitions: " + reads);
            // The leader loads the share-partitions of one ShareFetch together: without batching, one each.
            assertTrue(reads >= 1 && reads <= PARTITIONS / 2, reads + " ReadShareGroupState requests for "
                    + PARTITIONS + " share-partitions");

            // The same from a persister of the leader's whose first request is held (before it goes out) until
            // every other share-partition's summary is queued: those go out together, in exactly one more request.
            // Without the hold, how many go together depends on how fast this thread queues (CI-loaded machines).
            KafkaBroker leading = cluster.broker(leaderBroker).kafkaBroker();
            int coordinatorBroker = shareCoordinator;
            CountDownLatch othersQueued = new CountDownLatch(1);
            CountDownLatch firstUnderWay = new CountDownLatch(1);
            AtomicInteger summarySends = new AtomicInteger();
            try (ShareCoordinatorChannels real = new ShareCoordinatorChannels(leaderBroker, leading.metadata(),
                    leading.interBrokerSecurity(), 10_000);
                 ShareCoordinatorPersister held = new ShareCoordinatorPersister(leading.shareState(),
                         statePartition -> false, statePartition -> coordinatorBroker, (broker, key, minVersion, version, r) -> {
                             if (key == ApiKey.READ_SHARE_GROUP_STATE_SUMMARY
                                     && summarySends.getAndIncrement() == 0) {
                                 firstUnderWay.countDown();
                                 // Sent only once the others are queued (the transport never waits itself).
                                 return CompletableFuture.runAsync(() -> {
                                     try {
                                         assertTrue(othersQueued.await(30, TimeUnit.SECONDS));
                                     } catch (InterruptedException e) {
                                         Thread.currentThread().interrupt();
                                     }
                                 }).thenCompose(v -> real.send(broker, key, minVersion, version, r));
                             }
                             return real.send(broker, key, minVersion, version, r);
                         })) {
                List<CompletableFuture<SharePersister.Stored>> summaries = new ArrayList<>();
                summaries.add(held.summaryAsync(GROUP, topicId, 0));
                assertTrue(firstUnderWay.await(30, TimeUnit.SECONDS), "the first summary is sent");
                for (int p = 1; p < PARTITIONS; p++) summaries.add(held.summaryAsync(GROUP, topicId, p));
                othersQueued.countDown();
                for (int p = 0; p < PARTITIONS; p++) {
                    assertEquals(RECORDS, summaries.get(p).get(30, TimeUnit.SECONDS).startOffset(),
                            "share-partition " + p + " accepted everything");
                }
                long summaryRequests = held.requestsSent(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY);
                System.out.println("ReadShareGroupStateSummary requests for " + PARTITIONS + " share-partitions: "
                        + summaryRequests);
                assertEquals(2, summaryRequests, "the first alone, the " + (PARTITIONS - 1)
                        + " queued while it was under way together");
            }

            // The lookups: a persister whose metadata first names the wrong broker (which answers NOT_COORDINATOR),
            // then none, asks FindCoordinator (key type SHARE) once and keeps the answer for the next calls.
            KafkaBroker leader = cluster.broker(leaderBroker).kafkaBroker();
            int wrong = 6 - shareCoordinator - leaderBroker;
            AtomicInteger metadataLookups = new AtomicInteger();
            try (ShareCoordinatorChannels channels = new ShareCoordinatorChannels(leaderBroker, leader.metadata(),
                    leader.interBrokerSecurity(), 10_000);
                 ShareCoordinatorPersister lookingUp = new ShareCoordinatorPersister(leader.shareState(),
                         statePartition -> false,
                         statePartition -> metadataLookups.getAndIncrement() == 0 ? wrong : -1,
                         () -> List.of(1, 2, 3), channels)) {
                assertEquals(RECORDS, lookingUp.summaryAsync(GROUP, topicId, 0).get(30, TimeUnit.SECONDS)
                        .startOffset(), "answered by the share coordinator FindCoordinator named");
                assertEquals(2, lookingUp.requestsSent(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY),
                        "one to the wrong broker (NOT_COORDINATOR), one to the coordinator");
                assertEquals(1, lookingUp.requestsSent(ApiKey.FIND_COORDINATOR));
                List<CompletableFuture<SharePersister.Stored>> again = new ArrayList<>();
                for (int p = 0; p < PARTITIONS; p++) again.add(lookingUp.summaryAsync(GROUP, topicId, p));
                for (int p = 0; p < PARTITIONS; p++) {
                    assertEquals(RECORDS, again.get(p).get(30, TimeUnit.SECONDS).startOffset());
                }
                assertEquals(1, lookingUp.requestsSent(ApiKey.FIND_COORDINATOR), "the answer is kept");
            }
        }
    }
}
