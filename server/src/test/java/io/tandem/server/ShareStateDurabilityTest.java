package io.tandem.server;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.server.fault.FaultRule;
import io.tandem.server.kafka.KafkaBroker;
import io.tandem.server.kafka.OfficialClientConnection;
import io.tandem.server.kafka.PartitionWaits;
import io.tandem.server.kafka.metadata.ClusterMetadata.TopicInfo;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.InitializeShareGroupStateRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateRequestData;
import org.apache.kafka.common.message.ReadShareGroupStateResponseData;
import org.apache.kafka.common.message.WriteShareGroupStateRequestData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.InitializeShareGroupStateRequest;
import org.apache.kafka.common.requests.InitializeShareGroupStateResponse;
import org.apache.kafka.common.requests.ReadShareGroupStateRequest;
import org.apache.kafka.common.requests.ReadShareGroupStateResponse;
import org.apache.kafka.common.requests.WriteShareGroupStateRequest;
import org.apache.kafka.common.requests.WriteShareGroupStateResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static io.tandem.server.ShareClusterClients.admin;
import static org.junit.jupiter.api.Assertions.*;

/**
 * The share coordinator's state survives a change of its {@code __share_group_state} leader, as with Kafka 4.4,
 * whose coordinator runtime answers a write only once the high watermark passed its records: with the state
 * partition's follower stalled (still in the ISR), a WriteShareGroupState is not acknowledged, and neither is a read
 * of the state it left unreplicated; the leader then stops, the follower takes over, and every write that was
 * acknowledged is in the state it loads. Answering before replication loses the acknowledged write (the flake of
 * ShareGroupLeadersTest: an accepted record redelivered after the state partition's leader stopped).
 */
class ShareStateDurabilityTest {
    private static final String TOPIC = "orders", GROUP = "pickers";
    private static final byte ACKNOWLEDGED = 2;
    /** The follower stays in the ISR while stalled, so replication, not an ISR shrink, decides the answers. */
    private static final String LAG_MS = "120000";
    /** Longer than a follower's fetch long-poll (replica.fetch.wait.max.ms 500): one begun before the stall is over. */
    private static final long STALL_SETTLE_MS = 1_500;

    @TempDir
    Path dir;

    /** share.coordinator.write.timeout.ms for the cluster: how long a write waits for the stalled ISR. */
    private static final long WRITE_TIMEOUT_MS = 2_000;

    @Test
    void aWriteShouldBeAcknowledgedOnlyOnceTheIsrHasItSoANewLeaderKeepsIt() throws Exception {
        try (TandemCluster cluster = TandemCluster.start(dir, 3, c -> c
                .set("share.coordinator.state.topic.num.partitions", "1")
                .set("share.coordinator.state.topic.replication.factor", "2")
                .set("share.coordinator.write.timeout.ms", Long.toString(WRITE_TIMEOUT_MS))
                .set("replica.lag.time.max.ms", LAG_MS));
             Admin admin = admin(cluster)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            Uuid topicId = PartitionWaits.describe(admin, TOPIC).topicId();
            KafkaBroker any = cluster.broker(1).kafkaBroker();
            TopicInfo stateTopic = ShareClusterClients.led(any, () -> any.shareStateTopic().ensureTopic());
            PartitionWaits.awaitIsrSize(admin, brokers(cluster), stateTopic.name(), 0, 2);
            int leader = ShareClusterClients.leader(stateTopic, 0);
            int follower = stateTopic.replicas().get(0).stream().filter(b -> b != leader).findFirst().orElseThrow();

            List<long[]> acknowledged = new ArrayList<>();
            try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(leader).kafkaPort())) {
                assertEquals(Errors.NONE.code(), initialize(c, topicId));
                assertEquals(Errors.NONE.code(), write(c, topicId, 0, 4), "the ISR is whole");
                acknowledged.add(new long[]{0, 4});

                // The follower stalls: every Fetch reaching the leader is dropped (only the follower fetches here).
                // Its links stay up otherwise, so the leader's controlled shutdown below reaches any controller.
                FaultRule stall = cluster.faults().kafka(ApiKey.FETCH).on("broker" + leader).drop();
                Thread.sleep(STALL_SETTLE_MS);
                long start = System.nanoTime();
                short stalledWrite = write(c, topicId, 5, 9);
                if (stalledWrite == Errors.NONE.code()) acknowledged.add(new long[]{5, 9});
                long waitedMs = TimeUnit.NANOSECONDS.toMillis(System.nanoTime() - start);
                short stalledRead = read(c, topicId).errorCode();

                // What was acknowledged survives the leader: the follower, never given the second write, takes over.
                cluster.stopBroker(leader);
                cluster.faults().remove(stall.id());
                ReadShareGroupStateResponseData.PartitionResult state = readAtLeader(cluster, admin, topicId);
                for (long[] batch : acknowledged) {
                    assertTrue(state.stateBatches().stream().anyMatch(b -> b.firstOffset() <= batch[0]
                                    && b.lastOffset() >= batch[1] && b.deliveryState() == ACKNOWLEDGED),
                            "acknowledged write of " + batch[0] + "-" + batch[1] + " lost by the new leader: "
                                    + state);
                }
                // As Kafka's CoordinatorOperationExceptionHelper maps a write timed out waiting for the ISR.
                assertEquals(Errors.COORDINATOR_NOT_AVAILABLE.code(), stalledWrite,
                        "a write the ISR lacks answered after " + waitedMs + " ms");
                // After share.coordinator.write.timeout.ms (2 s here; Kafka's default 5 s would be too late).
                assertTrue(waitedMs >= WRITE_TIMEOUT_MS * 3 / 4 && waitedMs < WRITE_TIMEOUT_MS * 2,
                        "the stalled write answered after " + waitedMs + " ms");
                assertEquals(Errors.COORDINATOR_NOT_AVAILABLE.code(), stalledRead,
                        "a read of state the ISR lacks must not be answered");
            }
        }
    }

    /**
     * A write waiting for a stalled follower is answered once the follower leaves the ISR, as with Kafka 4.4, whose
     * coordinator runtime keeps a write pending until it is committed and fails it only when the leader changes: the
     * follower stops, the controller shrinks the ISR under a new leader epoch with the same leader, the high watermark
     * passes the write, and the answer is NONE (not NOT_COORDINATOR, which would have the writer retry a write that
     * is in fact stored).
     */
    @Test
    void aWritePendingWhenTheFollowerLeavesTheIsrShouldBeAnsweredByTheSameLeader() throws Exception {
        long writeTimeoutMs = 30_000;
        try (TandemCluster cluster = TandemCluster.start(dir, 3, c -> c
                .set("share.coordinator.state.topic.num.partitions", "1")
                .set("share.coordinator.state.topic.replication.factor", "2")
                .set("share.coordinator.write.timeout.ms", Long.toString(writeTimeoutMs))
                .set("replica.lag.time.max.ms", LAG_MS));
             Admin admin = admin(cluster)) {
            admin.createTopics(List.of(new NewTopic(TOPIC, 1, (short) 1))).all().get(30, TimeUnit.SECONDS);
            Uuid topicId = PartitionWaits.describe(admin, TOPIC).topicId();
            KafkaBroker any = cluster.broker(1).kafkaBroker();
            TopicInfo stateTopic = ShareClusterClients.led(any, () -> any.shareStateTopic().ensureTopic());
            PartitionWaits.awaitIsrSize(admin, brokers(cluster), stateTopic.name(), 0, 2);
            int leader = ShareClusterClients.leader(stateTopic, 0);
            int follower = stateTopic.replicas().get(0).stream().filter(b -> b != leader).findFirst().orElseThrow();
            try (OfficialClientConnection c = new OfficialClientConnection(cluster.broker(leader).kafkaPort())) {
                assertEquals(Errors.NONE.code(), initialize(c, topicId));

                FaultRule stall = cluster.faults().kafka(ApiKey.FETCH).on("broker" + leader).drop();
                Thread.sleep(STALL_SETTLE_MS);
                java.util.concurrent.CompletableFuture<Short> pending = java.util.concurrent.CompletableFuture
                        .supplyAsync(() -> {
                            try {
                                return write(c, topicId, 0, 4);
                            } catch (Exception e) {
                                throw new java.util.concurrent.CompletionException(e);
                            }
                        });
                Thread.sleep(STALL_SETTLE_MS);
                assertFalse(pending.isDone(), "a write the stalled follower lacks is not answered yet");
                cluster.stopBroker(follower);
                cluster.faults().remove(stall.id());
                assertEquals(Errors.NONE.code(), pending.get(writeTimeoutMs, TimeUnit.MILLISECONDS),
                        "the write is committed once the ISR shrinks, under the same leader");
                var state = PartitionWaits.describe(admin, stateTopic.name()).partitions().get(0);
                assertEquals(leader, state.leader().id(), "the state partition kept its leader");
                assertEquals(1, state.isr().size());
                ReadShareGroupStateResponseData.PartitionResult read = read(c, topicId);
                assertEquals(Errors.NONE.code(), read.errorCode());
                assertTrue(read.stateBatches().stream().anyMatch(b -> b.firstOffset() == 0 && b.lastOffset() == 4
                        && b.deliveryState() == ACKNOWLEDGED), "the write is in the state: " + read);
            }
        }
    }

    /**
     * InitializeShareGroupState at the state partition's leader, asked again while that broker's share coordinator is
     * still taking the partition (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS), as Kafka's persister retries them:
     * the leader named in another broker's metadata may not have loaded the partition yet.
     */
    private static short initialize(OfficialClientConnection c, Uuid topicId) throws Exception {
        long deadline = System.currentTimeMillis() + 30_000;
        while (true) {
            InitializeShareGroupStateResponse initialized = c.call(new InitializeShareGroupStateRequest.Builder(
                    new InitializeShareGroupStateRequestData().setGroupId(GROUP).setTopics(List.of(
                            new InitializeShareGroupStateRequestData.InitializeStateData().setTopicId(topicId)
                                    .setPartitions(List.of(new InitializeShareGroupStateRequestData.PartitionData()
                                            .setPartition(0).setStateEpoch(0).setStartOffset(0))))))
                    .build((short) 0));
            short error = initialized.data().results().get(0).partitions().get(0).errorCode();
            boolean loading = error == Errors.NOT_COORDINATOR.code()
                    || error == Errors.COORDINATOR_LOAD_IN_PROGRESS.code();
            if (!loading || System.currentTimeMillis() > deadline) return error;
            Thread.sleep(20);
        }
    }

    private static short write(OfficialClientConnection c, Uuid topicId, long first, long last) throws Exception {
        WriteShareGroupStateResponse response = c.call(new WriteShareGroupStateRequest.Builder(
                new WriteShareGroupStateRequestData().setGroupId(GROUP).setTopics(List.of(
                        new WriteShareGroupStateRequestData.WriteStateData().setTopicId(topicId).setPartitions(List.of(
                                new WriteShareGroupStateRequestData.PartitionData().setPartition(0).setStateEpoch(0)
                                        .setLeaderEpoch(0).setStartOffset(-1).setStateBatches(List.of(
                                                new WriteShareGroupStateRequestData.StateBatch()
                                                        .setFirstOffset(first).setLastOffset(last)
                                                        .setDeliveryState(ACKNOWLEDGED)
                                                        .setDeliveryCount((short) 1))))))))
                .build((short) 0));
        return response.data().results().get(0).partitions().get(0).errorCode();
    }

    private static ReadShareGroupStateResponseData.PartitionResult read(OfficialClientConnection c, Uuid topicId)
            throws Exception {
        ReadShareGroupStateResponse response = c.call(new ReadShareGroupStateRequest.Builder(
                new ReadShareGroupStateRequestData().setGroupId(GROUP).setTopics(List.of(
                        new ReadShareGroupStateRequestData.ReadStateData().setTopicId(topicId).setPartitions(List.of(
                                new ReadShareGroupStateRequestData.PartitionData().setPartition(0)
                                        .setLeaderEpoch(0))))))
                .build((short) 0));
        return response.data().results().get(0).partitions().get(0);
    }

    /** The state as the state partition's leader answers it, once one leads it and has loaded it. */
    private static ReadShareGroupStateResponseData.PartitionResult readAtLeader(TandemCluster cluster, Admin admin,
                                                                               Uuid topicId) throws Exception {
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        ReadShareGroupStateResponseData.PartitionResult last = null;
        while (System.nanoTime() < deadline) {
            var leader = PartitionWaits.describe(admin, "__share_group_state").partitions().get(0).leader();
            if (leader != null && cluster.isRunning(leader.id())) {
                try (OfficialClientConnection c = new OfficialClientConnection(
                        cluster.broker(leader.id()).kafkaPort())) {
                    last = read(c, topicId);
                    if (last.errorCode() == Errors.NONE.code()) return last;
                }
            }
            Thread.sleep(100);
        }
        return fail("no share coordinator answered the read: " + last);
    }

    private static List<Tandem> brokers(TandemCluster cluster) {
        List<Tandem> brokers = new ArrayList<>();
        for (int b = 1; b <= cluster.size(); b++) brokers.add(cluster.isRunning(b) ? cluster.broker(b) : null);
        return brokers;
    }
}
