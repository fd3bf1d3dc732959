package io.tandem.server.kafka.replica.sim;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.Partition;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The simulated leader answers replica fetches by production's rules (LeaderFetch.readCheck, ParkedFetch), not by a
 * copy of its own. The copy it had answered a last fetched epoch above every epoch the leader knows with a diverging
 * epoch of {-1, -1} (the follower ignored it and fetched the same again), where FetchHandler and Kafka's
 * Partition.readRecords answer OFFSET_OUT_OF_RANGE (the follower asks the leader's offsets and truncates); and it
 * counted bytes toward min.bytes for a fetch on an older segment than the log end, which Kafka's DelayedFetch
 * answers at once.
 */
class SimLeaderFetchRulesTest {
    private static final TopicPartition TP = new TopicPartition(ReplicationSimulator.TOPIC, 0);

    @TempDir
    Path root;

    @Test
    void shouldAnswerReplicaFetchesAsTheFetchHandlerDoes() throws Exception {
        ReplicationSimulator sim = new ReplicationSimulator(1, ReplicationSimulator.Mutation.NONE, root, false, false);
        sim.startBrokers();
        sim.scheduler.runFor(5_000);
        SimBroker leader = null;
        for (int id : ReplicationSimulator.BROKER_IDS) {
            SimBroker b = sim.running(id);
            if (b != null && b.leaderPartition(TP) != null) leader = b;
        }
        assertNotNull(leader, "no leader of " + TP + " after 5 s");
        Partition partition = leader.leaderPartition(TP);
        produce(leader, 2);
        sim.scheduler.runFor(1_000);
        partition.log().roll();
        produce(leader, 1);
        sim.scheduler.runFor(1_000);
        assertEquals(3, partition.logEndOffset());
        int follower = ReplicationSimulator.BROKER_IDS[0] == leader.id ? ReplicationSimulator.BROKER_IDS[1]
                : ReplicationSimulator.BROKER_IDS[0];

        // A last fetched epoch above every epoch the leader knows: Kafka cannot place it.
        FetchResponse.PartitionData unknownEpoch = fetchNow(leader, follower, partition.leaderEpoch(), 3,
                partition.leaderEpoch() + 5, 1);
        assertNotNull(unknownEpoch, "the fetch with an unknown last fetched epoch was parked");
        assertEquals(ErrorCodes.OFFSET_OUT_OF_RANGE, unknownEpoch.errorCode);
        assertTrue(unknownEpoch.divergingEpoch == null || unknownEpoch.divergingEpoch.epoch < 0,
                "no diverging epoch with the error");

        // From the first segment, with a min.bytes far above what the log holds: answered at once (case F).
        FetchResponse.PartitionData olderSegment = fetchNow(leader, follower, partition.leaderEpoch(), 0, -1,
                1 << 30);
        assertNotNull(olderSegment, "a fetch on an older segment than the log end was parked for its min.bytes");
        assertEquals(ErrorCodes.NONE, olderSegment.errorCode);
    }

    private static void produce(SimBroker leader, int records) throws Exception {
        for (int i = 0; i < records; i++) {
            ByteBuf batch = SimBroker.BUFFERS.heapBuffer(96);
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(batch)) {
                builder.append(leader.scheduler.now(), null, new byte[] {(byte) i});
                builder.build();
            }
            leader.produce(TP, batch, error -> { });
        }
    }

    /** A replica Fetch of {@link #TP} from {@code replicaId}, and its answer if given before any time passes. */
    private static FetchResponse.PartitionData fetchNow(SimBroker leader, int replicaId, int currentLeaderEpoch,
                                                        long fetchOffset, int lastFetchedEpoch, int minBytes)
            throws Exception {
        FetchRequest request = new FetchRequest();
        request.replicaId = replicaId;
        request.maxWaitMs = 500;
        request.minBytes = minBytes;
        request.maxBytes = 1 << 20;
        FetchRequest.FetchTopic topic = new FetchRequest.FetchTopic();
        topic.topic = TP.topic();
        FetchRequest.FetchPartition p = new FetchRequest.FetchPartition();
        p.partition = TP.partition();
        p.currentLeaderEpoch = currentLeaderEpoch;
        p.fetchOffset = fetchOffset;
        p.lastFetchedEpoch = lastFetchedEpoch;
        p.logStartOffset = 0;
        p.partitionMaxBytes = 1 << 20;
        topic.partitions = new java.util.ArrayList<>(List.of(p));
        request.topics = new java.util.ArrayList<>(List.of(topic));
        AtomicReference<FetchResponse> answer = new AtomicReference<>();
        leader.handleReplicaFetch(request, answer::set);
        FetchResponse response = answer.get();
        if (response == null) return null;
        return response.responses.get(0).partitions.get(0);
    }
}
