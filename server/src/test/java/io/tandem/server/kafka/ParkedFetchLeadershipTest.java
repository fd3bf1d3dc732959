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
import org.apache.kafka.clients.admin.NewPartitionReassignment;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.ElectionType;
import org.apache.kafka.common.TopicPartition;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.message.MetadataRequestData;
import org.apache.kafka.common.message.MetadataResponseData;
import org.apache.kafka.common.protocol.Errors;
import org.apache.kafka.common.requests.FetchRequest;
import org.apache.kafka.common.requests.FetchResponse;
import org.apache.kafka.common.requests.MetadataRequest;
import org.apache.kafka.common.requests.MetadataResponse;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A consumer's fetch parked on the leader (nothing new to read, a long max.wait) is answered as soon as the leadership
 * moves away, as Kafka's DelayedFetch.tryComplete completes it when the partition is no longer led here
 * (NOT_LEADER_OR_FOLLOWER) or is led under a newer epoch than the fetcher's (FENCED_LEADER_EPOCH), and its
 * ReplicaManager looks at the fetch purgatory when a LeaderAndIsr makes it a follower. Tandem's parked fetch looked
 * only at appends and its wait's end: it sat out its 10 s and then answered the old leader's empty read without error.
 */
@Timeout(value = 120, unit = TimeUnit.SECONDS)
class ParkedFetchLeadershipTest {
    private static final String TOPIC = "moving";
    private static final int MAX_WAIT_MS = 10_000;

    @RegisterExtension
    final ClusterPerTest kafka = ClusterPerTest.started(2, Map.of("auto.leader.rebalance.enable", "false"));

    @Test
    void shouldAnswerAParkedFetchAtOnceWhenItsPartitionsLeadershipMoves() throws Exception {
        Admin admin = kafka.admin();
        admin.createTopics(List.of(new NewTopic(TOPIC, Map.of(0, List.of(1, 2))))).all().get(30, TimeUnit.SECONDS);
        PartitionWaits.awaitIsrSize(admin, kafka.cluster(), TOPIC, 0, 2);
        int port = kafka.cluster().broker(1).kafkaPort();
        int epoch = leaderEpoch(port);

        long started = System.nanoTime();
        // One fetch knows no epoch (-1: checked for the leadership only), the other the leader's (as the Java
        // consumer sends it): both wait for a record that never comes.
        CompletableFuture<Errors> unknownEpoch = CompletableFuture.supplyAsync(() -> fetch(port, -1));
        CompletableFuture<Errors> knownEpoch = CompletableFuture.supplyAsync(() -> fetch(port, epoch));
        Thread.sleep(500);
        assertFalse(unknownEpoch.isDone() || knownEpoch.isDone(), "the fetches were answered before any move");

        TopicPartition tp = new TopicPartition(TOPIC, 0);
        admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(2, 1)))))
                .all().get(30, TimeUnit.SECONDS);
        admin.electLeaders(ElectionType.PREFERRED, Set.of(tp)).all().get(30, TimeUnit.SECONDS);

        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, unknownEpoch.get(30, TimeUnit.SECONDS));
        // Kafka checks the fetcher's epoch first: the old leader, now a follower at the new epoch, fences it.
        assertEquals(Errors.FENCED_LEADER_EPOCH, knownEpoch.get(30, TimeUnit.SECONDS));
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMs < MAX_WAIT_MS, "answered after " + tookMs + " ms, not when the leadership moved");
    }

    private static int leaderEpoch(int port) throws Exception {
        MetadataRequestData data = new MetadataRequestData().setAllowAutoTopicCreation(false);
        data.topics().add(new MetadataRequestData.MetadataRequestTopic().setName(TOPIC));
        try (OfficialClientConnection connection = new OfficialClientConnection(port)) {
            MetadataResponse response = connection.call(new MetadataRequest.Builder(data).build((short) 12));
            MetadataResponseData.MetadataResponsePartition partition =
                    response.data().topics().find(TOPIC).partitions().get(0);
            assertEquals(1, partition.leaderId());
            return partition.leaderEpoch();
        }
    }

    /** A consumer's Fetch v12 of partition 0 from its log end, parked for up to {@link #MAX_WAIT_MS}. */
    private static Errors fetch(int port, int currentLeaderEpoch) {
        Map<TopicPartition, FetchRequest.PartitionData> partitions = new LinkedHashMap<>();
        partitions.put(new TopicPartition(TOPIC, 0), new FetchRequest.PartitionData(Uuid.ZERO_UUID, 0, 0, 1 << 20,
                currentLeaderEpoch < 0 ? Optional.empty() : Optional.of(currentLeaderEpoch)));
        try (OfficialClientConnection connection = new OfficialClientConnection(port)) {
            FetchResponse response = connection.call(
                    FetchRequest.Builder.forConsumer((short) 12, MAX_WAIT_MS, 1, partitions).build((short) 12));
            return Errors.forCode(response.data().responses().get(0).partitions().get(0).errorCode());
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
