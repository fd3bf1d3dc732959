package io.tandem.server.kafka.group.share;

import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.message.ReadShareGroupStateRequest;
import io.tandem.kafka.wire.message.ReadShareGroupStateResponse;
import io.tandem.kafka.wire.message.ReadShareGroupStateSummaryResponse;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import io.tandem.server.kafka.network.InterBrokerClient;
import io.tandem.server.kafka.network.ScriptedBroker;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

import java.net.Socket;
import java.net.SocketTimeoutException;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The persister's connection to a share coordinator carries one request at a time, as Kafka 4.4's persister
 * NetworkClient (NetworkUtils.buildNetworkClient: max.in.flight.requests.per.connection 1): against a coordinator
 * played by the test on a real socket, through the inter-broker client the broker uses, a summary and two reads made
 * while a read is under way send nothing until its answer, and then go as one summary and one read carrying both
 * share-partitions.
 */
@Timeout(60)
class ShareStatePersisterConnectionTest {
    private static final UUID TOPIC = new UUID(9, 9);
    private static final int COORDINATOR = 2;
    /** How long the test listens for a request that must not come. */
    private static final int SILENCE_MS = 500;

    @Test
    void aSecondCallShouldWaitForTheFirstsAnswerAndGoBatched() throws Exception {
        ShareStateCoordinator states = new ShareStateCoordinator(10, new InMemoryStateLog(),
                (t, p) -> TOPIC.equals(t), () -> 1L);
        try (ScriptedBroker coordinator = new ScriptedBroker();
             InterBrokerClient client = new InterBrokerClient(InterBrokerClient.Settings.kafka("test-share-state",
                     ShareCoordinatorPersister.REQUESTS_IN_FLIGHT_PER_NODE, 30_000), InterBrokerSecurity.PLAINTEXT);
             ShareCoordinatorPersister persister = new ShareCoordinatorPersister(states, statePartition -> false,
                     statePartition -> COORDINATOR, () -> List.of(COORDINATOR), (brokerId, key, minVersion, version, request) ->
                     client.send(brokerId, coordinator.address(), key, version, request))) {
            CompletableFuture<SharePersister.Stored> first = persister.readAsync("g", TOPIC, 0, 0);
            Socket peer = coordinator.accept(10_000);
            ScriptedBroker.introduce(peer, ApiKey.READ_SHARE_GROUP_STATE, ApiKey.READ_SHARE_GROUP_STATE_SUMMARY);
            ScriptedBroker.Received firstRead = ScriptedBroker.read(peer);
            assertEquals(ApiKey.READ_SHARE_GROUP_STATE, firstRead.key());

            CompletableFuture<SharePersister.Stored> summary = persister.summaryAsync("g", TOPIC, 0);
            CompletableFuture<SharePersister.Stored> second = persister.readAsync("g", TOPIC, 1, 0);
            CompletableFuture<SharePersister.Stored> third = persister.readAsync("g", TOPIC, 2, 0);
            assertNothingArrives(peer, "while the first read is under way");
            assertFalse(summary.isDone() || second.isDone() || third.isDone());

            ScriptedBroker.answer(peer, firstRead, read(0));
            assertEquals(10, first.get(10, TimeUnit.SECONDS).startOffset());
            List<ApiKey> order = new ArrayList<>();
            for (int i = 0; i < 2; i++) {
                ScriptedBroker.Received next = ScriptedBroker.read(peer);
                order.add(next.key());
                assertNothingArrives(peer, "while " + next.key() + " is under way");
                if (next.key() == ApiKey.READ_SHARE_GROUP_STATE) {
                    List<Integer> partitions = new ArrayList<>();
                    for (ReadShareGroupStateRequest.PartitionData p
                            : ((ReadShareGroupStateRequest) next.body()).topics.get(0).partitions) {
                        partitions.add(p.partition);
                    }
                    assertEquals(List.of(1, 2), partitions, "the reads that waited go in one request");
                    ScriptedBroker.answer(peer, next, read(1, 2));
                } else {
                    assertEquals(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY, next.key());
                    ScriptedBroker.answer(peer, next, summary());
                }
            }
            assertTrue(order.contains(ApiKey.READ_SHARE_GROUP_STATE_SUMMARY), "order: " + order);
            assertEquals(20, summary.get(10, TimeUnit.SECONDS).startOffset());
            assertEquals(11, second.get(10, TimeUnit.SECONDS).startOffset());
            assertEquals(12, third.get(10, TimeUnit.SECONDS).startOffset());
            assertEquals(2, persister.requestsSent(ApiKey.READ_SHARE_GROUP_STATE));
        }
    }

    private static void assertNothingArrives(Socket peer, String when) throws Exception {
        peer.setSoTimeout(SILENCE_MS);
        try {
            ScriptedBroker.Received early = ScriptedBroker.read(peer);
            fail("a second request (" + early.key() + ") reached the coordinator " + when);
        } catch (SocketTimeoutException expected) {
            // Nothing on the wire: the request waits for the answer under way.
        } finally {
            peer.setSoTimeout(10_000);
        }
    }

    /** A read answer for {@code partitions}, partition p at start offset 10 + p. */
    private static ReadShareGroupStateResponse read(int... partitions) {
        ReadShareGroupStateResponse.ReadStateResult t = new ReadShareGroupStateResponse.ReadStateResult();
        t.topicId = TOPIC;
        t.partitions = new ArrayList<>();
        for (int partition : partitions) {
            ReadShareGroupStateResponse.PartitionResult p = new ReadShareGroupStateResponse.PartitionResult();
            p.partition = partition;
            p.stateEpoch = 1;
            p.startOffset = 10 + partition;
            p.stateBatches = new ArrayList<>();
            t.partitions.add(p);
        }
        ReadShareGroupStateResponse response = new ReadShareGroupStateResponse();
        response.results = new ArrayList<>(List.of(t));
        return response;
    }

    private static ReadShareGroupStateSummaryResponse summary() {
        ReadShareGroupStateSummaryResponse.PartitionResult p = new ReadShareGroupStateSummaryResponse.PartitionResult();
        p.partition = 0;
        p.stateEpoch = 1;
        p.startOffset = 20;
        ReadShareGroupStateSummaryResponse.ReadStateSummaryResult t =
                new ReadShareGroupStateSummaryResponse.ReadStateSummaryResult();
        t.topicId = TOPIC;
        t.partitions = new ArrayList<>(List.of(p));
        ReadShareGroupStateSummaryResponse response = new ReadShareGroupStateSummaryResponse();
        response.results = new ArrayList<>(List.of(t));
        return response;
    }
}
