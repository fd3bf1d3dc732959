package io.tandem.server.kafka;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.Node;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.FetchResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A real truncation under parked fetches: an unclean leader election makes the shortest log the leader's, and a
 * follower holding committed-but-now-lost records truncates while consumers' fetches wait on it past the new leader's
 * end. As Kafka 3.9 answers them (DelayedFetch.tryComplete, then Partition.readRecords): a fetch at the old leader
 * epoch is FENCED_LEADER_EPOCH as soon as the LeaderAndIsr of the new epoch reaches the follower (case E); a v12
 * fetch without a current epoch but with its last fetched epoch, which a follower may serve (KIP-392), is answered
 * once the truncated log moves again (case F: its offset is past the end) with the diverging epoch that tells the
 * consumer where its log stops agreeing, not at its max.wait; and every replica, the truncated follower and the
 * restarted old leader, ends with the new leader's log.
 *
 * <p>Replicas [1, 3, 2]: 3 is cut off after the first record, 2 after the third, so the old leader 1 alone holds the
 * fourth; with 1 stopped no replica of the ISR lives, and the operator's unclean ElectLeaders picks 3 (one record).
 */
@Timeout(value = 180, unit = TimeUnit.SECONDS)
class UncleanTruncationParkedFetchTest {
    private static final String TOPIC = "unclean";
    private static final int MAX_WAIT_MS = 25_000;
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(3, Map.of("auto.leader.rebalance.enable", "false",
            "replica.lag.time.max.ms", "2000"));

    @Test
    void shouldAnswerFetchesParkedPastTheNewLeadersEndAsKafkaAndConvergeTheTruncatedReplicas() throws Exception {
        Admin admin = kafka.admin();
        // unclean.leader.election.enable stays false on the topic: the partition goes offline with its last ISR
        // member, as Kafka's, until the operator's unclean ElectLeaders (Tandem's controller does not yet read the
        // topic's key to elect by itself).
        admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(1, 3, 2))))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), TOPIC, 0, 3);
        produce("all", "r0");
        kafka.cluster().partition(1, 3);
        // Follower 3 holds the whole log until r1: a follower at the leader's log end stays in the ISR however long
        // it is silent (Kafka's ReplicaState.isCaughtUp), so r1 (acks=all) is answered once 3 has left it.
        produce("all", "r1");
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), TOPIC, 0, 2);
        produce("all", "r2");
        awaitHighWatermark(2, 3);
        kafka.cluster().partition(1, 2);
        produce("1", "r3");
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), TOPIC, 0, 1);
        FetchResponseData.PartitionData before = fetch(2, 12, -1, 0, -1, 0);
        int oldEpoch = lastBatchEpoch(before);
        assertEquals(3, before.highWatermark(), "the follower's high watermark before the election");

        // Parked on follower 2 at its high watermark (3), past where the new leader's log will end (1).
        CompletableFuture<FetchResponseData.PartitionData> atOldEpoch =
                CompletableFuture.supplyAsync(() -> fetchUnchecked(2, 12, oldEpoch, 3, oldEpoch));
        CompletableFuture<FetchResponseData.PartitionData> withLastFetchedEpoch =
                CompletableFuture.supplyAsync(() -> fetchUnchecked(2, 12, -1, 3, oldEpoch));
        Thread.sleep(500);
        assertFalse(atOldEpoch.isDone() || withLastFetchedEpoch.isDone(), "answered before the election");

        long started = System.nanoTime();
        kafka.cluster().stopBroker(1);
        awaitNoLeader(admin);
        electUncleanLeader(admin);
        assertEquals(3, PartitionWaits.awaitLeaderChange(admin, TOPIC, 0, 1));

        FetchResponseData.PartitionData fenced = atOldEpoch.get(30, TimeUnit.SECONDS);
        assertEquals(Errors.FENCED_LEADER_EPOCH, Errors.forCode(fenced.errorCode()));
        long fencedMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(fencedMs < MAX_WAIT_MS / 2, "fenced after " + fencedMs + " ms, not at the new epoch");

        // The new leader's log moves on; follower 2, truncated to 1, follows it, and the parked fetch learns where
        // its log (epoch oldEpoch up to offset 3) stops agreeing with the follower's: epoch oldEpoch ends at 1.
        produce("all", "r4");
        FetchResponseData.PartitionData diverged = withLastFetchedEpoch.get(30, TimeUnit.SECONDS);
        long divergedMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(divergedMs < MAX_WAIT_MS, "answered after " + divergedMs + " ms, at its wait's end");
        assertEquals(Errors.NONE, Errors.forCode(diverged.errorCode()));
        assertEquals(oldEpoch, diverged.divergingEpoch().epoch(), "the diverging epoch");
        assertEquals(1, diverged.divergingEpoch().endOffset(), "where it ends on the truncated follower");
        assertEquals(0, FetchResponse.recordsOrFail(diverged).sizeInBytes(), "no records with a divergence");

        // Every replica converges on the new leader's log: r0, r4.
        kafka.cluster().heal(1, 2);
        kafka.cluster().heal(1, 3);
        kafka.cluster().restartBroker(1);
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), TOPIC, 0, 3);
        List<String> leaderLog = committedLog(3);
        for (int broker : new int[] {1, 2}) {
            long deadline = System.currentTimeMillis() + 30_000;
            List<String> log = committedLog(broker);
            while (!leaderLog.equals(log) && System.currentTimeMillis() < deadline) {
                Thread.sleep(100);
                log = committedLog(broker);
            }
            assertEquals(leaderLog, log, "broker " + broker + "'s log differs from the new leader's");
        }
        assertEquals(List.of("r0", "r4"), values(fetch(3, 12, -1, 0, -1, 0)));
    }

    private void produce(String acks, String value) throws Exception {
        try (KafkaProducer<String, String> producer = ReplicationClients.producer(kafka.cluster(), acks, "false")) {
            producer.send(new ProducerRecord<>(TOPIC, 0, null, value)).get(30, TimeUnit.SECONDS);
        }
    }

    private void awaitHighWatermark(int broker, long highWatermark) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (fetch(broker, 12, -1, 0, -1, 0).highWatermark() != highWatermark) {
            assertTrue(System.currentTimeMillis() < deadline, "broker " + broker + " never reached " + highWatermark);
            Thread.sleep(50);
        }
    }

    /**
     * Asks the controller for the unclean election. Broker 1, stopped just before, may have been the controller: the
     * Admin can then reach a broker that is not (or not yet) the active one, which answers the partition
     * NOT_CONTROLLER (with no top-level error, as Kafka 3.9's ZooKeeper-mode broker), and the Admin's electLeaders
     * retries neither that nor a top-level one itself (against Apache too), so ask again as an operator would.
     */
    private static void electUncleanLeader(Admin admin) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            Throwable error;
            try {
                error = admin.electLeaders(ElectionType.UNCLEAN, Set.of(TP)).partitions().get(30, TimeUnit.SECONDS)
                        .get(TP).orElse(null);
            } catch (java.util.concurrent.ExecutionException e) {
                error = e.getCause();
            }
            if (error == null) return;
            if (!(error instanceof org.apache.kafka.common.errors.NotControllerException)
                    || System.currentTimeMillis() > deadline) {
                throw new AssertionError("unclean election failed", error);
            }
            Thread.sleep(100);
        }
    }

    private static void awaitNoLeader(Admin admin) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            Node leader = PartitionWaits.describe(admin, TOPIC).partitions().get(0).leader();
            if (leader == null || leader.id() < 0) return;
            assertTrue(System.currentTimeMillis() < deadline, "the partition kept leader " + leader);
            Thread.sleep(50);
        }
    }

    /**
     * The batches below the broker's high watermark (a v12 consumer fetch, which any replica serves), each as its
     * base offset, leader epoch and CRC: equal lists are equal logs.
     */
    private List<String> committedLog(int broker) throws Exception {
        List<String> batches = new java.util.ArrayList<>();
        for (var batch : FetchResponse.recordsOrFail(fetch(broker, 12, -1, 0, -1, 0)).batches()) {
            batches.add(batch.baseOffset() + "@" + batch.partitionLeaderEpoch() + "#" + batch.checksum());
        }
        return batches;
    }

    private static int lastBatchEpoch(FetchResponseData.PartitionData data) {
        int epoch = -1;
        for (var batch : FetchResponse.recordsOrFail(data).batches()) epoch = batch.partitionLeaderEpoch();
        return epoch;
    }

    private static List<String> values(FetchResponseData.PartitionData data) {
        List<String> values = new java.util.ArrayList<>();
        for (var batch : FetchResponse.recordsOrFail(data).batches()) {
            for (var record : batch) {
                byte[] v = new byte[record.valueSize()];
                record.value().get(v);
                values.add(new String(v, java.nio.charset.StandardCharsets.UTF_8));
            }
        }
        return values;
    }

    private FetchResponseData.PartitionData fetchUnchecked(int broker, int version, int currentLeaderEpoch,
                                                           long offset, int lastFetchedEpoch) {
        try {
            return fetch(broker, version, currentLeaderEpoch, offset, lastFetchedEpoch, MAX_WAIT_MS);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    /** A consumer's Fetch of partition 0 straight to {@code broker}, waiting up to {@code maxWaitMs} for a byte. */
    private FetchResponseData.PartitionData fetch(int broker, int version, int currentLeaderEpoch, long offset,
                                                  int lastFetchedEpoch, int maxWaitMs) throws Exception {
        Map<TopicPartition, FetchRequest.PartitionData> partitions = new LinkedHashMap<>();
        partitions.put(TP, new FetchRequest.PartitionData(Uuid.ZERO_UUID, offset, 0, 1 << 20,
                currentLeaderEpoch < 0 ? Optional.empty() : Optional.of(currentLeaderEpoch),
                lastFetchedEpoch < 0 ? Optional.empty() : Optional.of(lastFetchedEpoch)));
        try (OfficialClientConnection connection = new OfficialClientConnection(
                kafka.cluster().broker(broker).kafkaPort())) {
            FetchResponse response = connection.call(FetchRequest.Builder.forConsumer((short) version, maxWaitMs, 1,
                    partitions).build((short) version));
            return response.data().responses().get(0).partitions().get(0);
        }
    }
}
