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
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.message.FetchResponseData;
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
 * A consumer's fetch parked on the leader (nothing new to read, a long max.wait) when the leadership moves away, as
 * Kafka's DelayedFetch.tryComplete judges it (Partition.fetchOffsetSnapshot with FetchParams.fetchOnlyLeader) when
 * its ReplicaManager looks at the fetch purgatory on a LeaderAndIsr making it a follower: a fetch that needs the
 * leader (below v11: no client metadata) is answered at once with NOT_LEADER_OR_FOLLOWER; one at an older epoch than
 * the new one with FENCED_LEADER_EPOCH; a v11+ fetch without an epoch may be served by a follower (KIP-392), so it
 * waits on, now on a follower, and is answered with the next record once the follower's high watermark reaches it
 * (ReplicaFetcherThread completes delayed fetches for partitions with a new high watermark). Tandem's parked fetch
 * once looked only at appends and its wait's end: it sat out its 10 s and then answered the old leader's empty read.
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
        // A v10 fetch (it needs the leader), a v12 one that knows no epoch (-1: nothing to fence) and a v12 one at
        // the leader's epoch (as the Java consumer sends it): all wait for a record.
        CompletableFuture<FetchResponseData.PartitionData> leaderOnly =
                CompletableFuture.supplyAsync(() -> fetch(port, 10, -1));
        CompletableFuture<FetchResponseData.PartitionData> unknownEpoch =
                CompletableFuture.supplyAsync(() -> fetch(port, 12, -1));
        CompletableFuture<FetchResponseData.PartitionData> knownEpoch =
                CompletableFuture.supplyAsync(() -> fetch(port, 12, epoch));
        Thread.sleep(500);
        assertFalse(leaderOnly.isDone() || unknownEpoch.isDone() || knownEpoch.isDone(),
                "the fetches were answered before any move");

        TopicPartition tp = new TopicPartition(TOPIC, 0);
        admin.alterPartitionReassignments(Map.of(tp, Optional.of(new NewPartitionReassignment(List.of(2, 1)))))
                .all().get(30, TimeUnit.SECONDS);
        admin.electLeaders(ElectionType.PREFERRED, Set.of(tp)).all().get(30, TimeUnit.SECONDS);

        assertEquals(Errors.NOT_LEADER_OR_FOLLOWER, error(leaderOnly.get(30, TimeUnit.SECONDS)));
        // Kafka checks the fetcher's epoch first: the old leader, now a follower at the new epoch, fences it.
        assertEquals(Errors.FENCED_LEADER_EPOCH, error(knownEpoch.get(30, TimeUnit.SECONDS)));
        long tookMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(tookMs < MAX_WAIT_MS, "answered after " + tookMs + " ms, not when the leadership moved");

        // Kafka's answer to the v12 fetch without an epoch: broker 1, a follower now, keeps it parked (nothing to
        // read below its high watermark) and serves it once a record produced to broker 2 is committed there.
        assertFalse(unknownEpoch.isDone(), "a fetch a follower may serve was answered when the leadership moved");
        try (KafkaProducer<String, String> producer = ReplicationClients.producer(kafka.cluster(), "all", "true")) {
            producer.send(new ProducerRecord<>(TOPIC, 0, null, "after the move")).get(30, TimeUnit.SECONDS);
        }
        FetchResponseData.PartitionData served = unknownEpoch.get(30, TimeUnit.SECONDS);
        assertEquals(Errors.NONE, error(served));
        assertEquals(1, served.highWatermark(), "the follower's high watermark");
        assertTrue(FetchResponse.recordsOrFail(served).sizeInBytes() > 0, "the record, from the follower");
        long servedMs = (System.nanoTime() - started) / 1_000_000;
        assertTrue(servedMs < MAX_WAIT_MS, "served after " + servedMs + " ms, at its wait's end, not at the record");
    }

    private static Errors error(FetchResponseData.PartitionData data) {
        return Errors.forCode(data.errorCode());
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

    /** A consumer's Fetch of partition 0 from its log end (0), parked for up to {@link #MAX_WAIT_MS}. */
    private static FetchResponseData.PartitionData fetch(int port, int version, int currentLeaderEpoch) {
        Map<TopicPartition, FetchRequest.PartitionData> partitions = new LinkedHashMap<>();
        partitions.put(new TopicPartition(TOPIC, 0), new FetchRequest.PartitionData(Uuid.ZERO_UUID, 0, 0, 1 << 20,
                currentLeaderEpoch < 0 ? Optional.empty() : Optional.of(currentLeaderEpoch)));
        try (OfficialClientConnection connection = new OfficialClientConnection(port)) {
            FetchResponse response = connection.call(FetchRequest.Builder.forConsumer((short) version, MAX_WAIT_MS, 1,
                    partitions).build((short) version));
            return response.data().responses().get(0).partitions().get(0);
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
