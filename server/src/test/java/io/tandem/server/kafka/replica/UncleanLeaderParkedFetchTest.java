package io.tandem.server.kafka.replica;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.tandem.kafka.wire.ApiKey;
import io.tandem.kafka.wire.Errors;
import io.tandem.kafka.wire.message.FetchRequest;
import io.tandem.kafka.wire.message.FetchResponse;
import io.tandem.kafka.wire.message.LeaderAndIsrRequest;
import io.tandem.kafka.wire.message.LeaderAndIsrResponse;
import io.tandem.kafka.wire.record.RecordBatchBuilder;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.log.LogManager;
import io.tandem.server.kafka.log.Partition;
import io.tandem.server.kafka.metadata.ClusterMetadata;
import io.tandem.server.kafka.metadata.KafkaZkLayout;
import io.tandem.server.kafka.metadata.KafkaZkLayout.BrokerRegistration;
import io.tandem.server.kafka.metadata.LocalZnodeStore;
import io.tandem.server.kafka.metadata.TopicAssignment;
import io.tandem.server.kafka.network.InterBrokerTimeouts;
import io.tandem.server.kafka.network.ScriptedBroker;
import io.tandem.server.kafka.security.InterBrokerSecurity;
import io.tandem.storage.log.LogConfig;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

/**
 * An unclean election while this follower's Fetch is parked on the old leader (a long poll of
 * replica.fetch.wait.max.ms): the controller's LeaderAndIsr names a new leader whose log is shorter. As Kafka 3.9's
 * ReplicaManager.makeFollowers (the partition leaves the old leader's fetcher thread and is added to one for the new
 * leader, which fetches at once), the follower fetches from the new leader without waiting for the parked fetch,
 * truncates where the new leader says its log diverges (the fetch's last fetched epoch: KIP-320's check, which Kafka
 * uses instead of KIP-101/279's OffsetsForLeaderEpoch round trip since IBP 2.7), and the old leader's late answer,
 * records past the truncation included, is dropped (AbstractFetcherThread keeps an answer only for a partition whose
 * fetch state is still the one it asked with). Both leaders are played by the test over real sockets; the follower
 * is a real {@link ReplicaManager} with real logs.
 */
@Timeout(120)
class UncleanLeaderParkedFetchTest {
    private static final String TOPIC = "unclean";
    private static final TopicPartition TP = new TopicPartition(TOPIC, 0);
    private static final int OLD_LEADER = 1;
    private static final int FOLLOWER = 2;
    private static final int NEW_LEADER = 3;
    /** replica.fetch.wait.max.ms: how long the old leader may hold the fetch; far beyond what the test allows. */
    private static final int WAIT_MAX_MS = 25_000;
    private static final int SESSION = 77;

    @TempDir
    Path dir;
    @RegisterExtension
    final ReplicaLogFixture fixture = new ReplicaLogFixture();

    @Test
    void shouldFollowTheUncleanLeaderAtOnceTruncateAndDropTheOldLeadersLateAnswer() throws Exception {
        LocalZnodeStore store = new LocalZnodeStore(Files.createDirectories(dir.resolve("zk")));
        TreeMap<Integer, List<Integer>> assignment = new TreeMap<>();
        assignment.put(0, List.of(OLD_LEADER, FOLLOWER, NEW_LEADER));
        store.setData(KafkaZkLayout.topicPath(TOPIC), KafkaZkLayout.encodeTopicAssignment(
                new TopicAssignment(UUID.randomUUID(), assignment)));
        ClusterMetadata metadata = new ClusterMetadata(store, new BrokerRegistration(FOLLOWER, "localhost", 9092,
                "PLAINTEXT", null, 0));
        LogManager logs = fixture.logs(Files.createDirectories(dir.resolve("logs")), FOLLOWER);
        ReplicaFetcherConfig fetching = new ReplicaFetcherConfig(1 << 20, WAIT_MAX_MS,
                ReplicaFetcherConfig.MIN_BYTES_DEFAULT, ReplicaFetcherConfig.RESPONSE_BYTES_MAX_DEFAULT, 400);
        try (ScriptedBroker oldLeader = new ScriptedBroker(); ScriptedBroker newLeader = new ScriptedBroker()) {
            ReplicaManager replicas = new ReplicaManager(FOLLOWER, metadata, (topic, p) -> {
                try {
                    return logs.getOrCreate(new TopicPartition(topic.name(), p), LogConfig.defaults());
                } catch (IOException e) {
                    throw new UncheckedIOException(e);
                }
            }, tp -> { }, 10_000, fetching, InterBrokerSecurity.PLAINTEXT, InterBrokerTimeouts.KAFKA_DEFAULTS);
            try {
                assertEquals(Errors.NONE.code(), apply(replicas, leaderAndIsr(1, OLD_LEADER, 0, oldLeader)));
                Partition partition = logs.get(TP);

                // The old leader hands over offsets 0-2 of epoch 0 (only offset 0 committed), then holds the next
                // fetch: it has nothing new.
                Socket old = oldLeader.accept(30_000);
                ScriptedBroker.introduce(old, ApiKey.FETCH);
                ScriptedBroker.Received first = ScriptedBroker.read(old);
                assertEquals(0, only(first).fetchOffset);
                ScriptedBroker.answer(old, first, answer(SESSION, 1, null, records(0, 0, 3)));
                ScriptedBroker.Received parked = ScriptedBroker.read(old);
                assertEquals(3, only(parked).fetchOffset);
                assertEquals(WAIT_MAX_MS, ((FetchRequest) parked.body()).maxWaitMs);
                assertEquals(3, partition.logEndOffset());

                // The unclean election: broker 3, which has offset 0 only, leads at epoch 1.
                long electedAt = System.nanoTime();
                assertEquals(Errors.NONE.code(), apply(replicas, leaderAndIsr(2, NEW_LEADER, 1, newLeader)));
                Socket fresh = newLeader.accept(30_000);
                ScriptedBroker.introduce(fresh, ApiKey.FETCH);
                ScriptedBroker.Received toNew = ScriptedBroker.read(fresh);
                long followedMs = (System.nanoTime() - electedAt) / 1_000_000;
                FetchRequest.FetchPartition asked = only(toNew);
                assertEquals(3, asked.fetchOffset);
                assertEquals(1, asked.currentLeaderEpoch, "the new leader's epoch");
                assertEquals(0, asked.lastFetchedEpoch, "the epoch its log ends with, for the leader to check");
                System.out.println("Fetched from the unclean leader " + followedMs + " ms after its LeaderAndIsr, "
                        + "with the old leader's fetch still parked (replica.fetch.wait.max.ms " + WAIT_MAX_MS + ")");
                assertTrue(followedMs < WAIT_MAX_MS / 2, "waited " + followedMs + " ms: the parked fetch held it");

                // The old leader answers its parked fetch late, with a fourth record of epoch 0: the partition is no
                // longer its fetcher's, so the answer is dropped, and its next fetch forgets the partition.
                ScriptedBroker.answer(old, parked, answer(SESSION, 4, null, records(0, 3, 1)));
                FetchRequest forget = (FetchRequest) ScriptedBroker.read(old).body();
                assertTrue(forget.topics.isEmpty(), "the old fetcher names no partition");
                assertEquals(List.of(TP.partition()), forget.forgottenTopicsData.get(0).partitions);
                assertEquals(3, partition.logEndOffset(), "the old leader's late records were not appended");

                // The new leader's log ends epoch 0 at offset 1: the follower truncates there and fetches on.
                FetchResponse.EpochEndOffset diverging = new FetchResponse.EpochEndOffset();
                diverging.epoch = 0;
                diverging.endOffset = 1;
                ScriptedBroker.answer(fresh, toNew, answer(0, 1, diverging, null));
                ScriptedBroker.Received afterTruncation = ScriptedBroker.read(fresh);
                assertEquals(1, only(afterTruncation).fetchOffset, "truncated to where the logs agree");
                assertEquals(1, partition.logEndOffset());
                ScriptedBroker.answer(fresh, afterTruncation, answer(0, 2, null, records(1, 1, 1)));
                assertEquals(2, only(ScriptedBroker.read(fresh)).fetchOffset);
                assertEquals(Map.of(0, 0L, 1, 1L), partition.log().leaderEpochs().entries(),
                        "epoch 0 up to offset 1, then the new leader's epoch 1");
                assertEquals(2, partition.highWatermark());
            } finally {
                replicas.close();
            }
        }
    }

    private static short apply(ReplicaManager replicas, LeaderAndIsrRequest request) {
        LeaderAndIsrResponse response = replicas.becomeLeaderOrFollower(request, (short) 6);
        assertEquals(Errors.NONE.code(), response.errorCode);
        return response.topics.get(0).partitionErrors.get(0).errorCode;
    }

    /** The controller's word on the partition: {@code leader} (played by {@code at}) at {@code leaderEpoch}. */
    private static LeaderAndIsrRequest leaderAndIsr(int controllerEpoch, int leader, int leaderEpoch,
                                                    ScriptedBroker at) {
        LeaderAndIsrRequest request = new LeaderAndIsrRequest();
        request.controllerId = NEW_LEADER;
        request.controllerEpoch = controllerEpoch;
        request.brokerEpoch = -1;
        request.type = ReplicaManager.LEADER_AND_ISR_INCREMENTAL;
        LeaderAndIsrRequest.LeaderAndIsrTopicState topic = new LeaderAndIsrRequest.LeaderAndIsrTopicState();
        topic.topicName = TOPIC;
        LeaderAndIsrRequest.LeaderAndIsrPartitionState state = new LeaderAndIsrRequest.LeaderAndIsrPartitionState();
        state.partitionIndex = TP.partition();
        state.controllerEpoch = controllerEpoch;
        state.leader = leader;
        state.leaderEpoch = leaderEpoch;
        state.isr = new ArrayList<>(List.of(leader));
        state.partitionEpoch = leaderEpoch;
        state.replicas = new ArrayList<>(List.of(OLD_LEADER, FOLLOWER, NEW_LEADER));
        topic.partitionStates.add(state);
        request.topicStates.add(topic);
        LeaderAndIsrRequest.LeaderAndIsrLiveLeader live = new LeaderAndIsrRequest.LeaderAndIsrLiveLeader();
        live.brokerId = leader;
        live.hostName = "127.0.0.1";
        live.port = at.port();
        request.liveLeaders.add(live);
        return request;
    }

    /** The one partition a replica fetch of this follower names. */
    private static FetchRequest.FetchPartition only(ScriptedBroker.Received received) {
        assertEquals(ApiKey.FETCH, received.key());
        FetchRequest request = (FetchRequest) received.body();
        assertEquals(FOLLOWER, request.replicaId);
        assertEquals(1, request.topics.size());
        assertEquals(1, request.topics.get(0).partitions.size());
        return request.topics.get(0).partitions.get(0);
    }

    /** An answer for {@link #TP} in session {@code sessionId} (0: none). */
    private static FetchResponse answer(int sessionId, long highWatermark, FetchResponse.EpochEndOffset diverging,
                                        ByteBuf records) {
        FetchResponse.PartitionData data = new FetchResponse.PartitionData();
        data.partitionIndex = TP.partition();
        data.highWatermark = highWatermark;
        data.logStartOffset = 0;
        if (diverging != null) data.divergingEpoch = diverging;
        data.records = records;
        FetchResponse.FetchableTopicResponse topic = new FetchResponse.FetchableTopicResponse();
        topic.topic = TOPIC;
        topic.partitions.add(data);
        FetchResponse response = new FetchResponse();
        response.sessionId = sessionId;
        response.responses.add(topic);
        return response;
    }

    /** {@code count} one-record batches of {@code epoch} from {@code offset} on, as a leader's log holds them. */
    private ByteBuf records(int epoch, long offset, int count) {
        ByteBuf batches = Unpooled.buffer();
        for (int i = 0; i < count; i++) {
            try (RecordBatchBuilder builder = RecordBatchBuilder.create(batches).baseOffset(offset + i)
                    .partitionLeaderEpoch(epoch)) {
                builder.append(fixture.now, null, ("record-" + (offset + i)).getBytes());
                builder.build();
            }
        }
        return batches;
    }
}
