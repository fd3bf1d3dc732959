package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;
import io.tandem.server.kafka.group.share.state.ShareStateBatch;
import io.tandem.server.kafka.group.share.state.ShareStateCoordinator;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.*;

/**
 * The group coordinator's calls to the share coordinator hold no thread: ShareGroupHeartbeat (answered at once,
 * initializing the group's share-partitions afterwards, as Kafka 4.4), DescribeShareGroupOffsets, AlterShareGroupOffsets, DeleteShareGroupOffsets and
 * DeleteGroups return at once with a future while the share coordinator has not answered (another broker, a write
 * being replicated), and complete from its answer; meanwhile other groups are served.
 */
class ShareGroupAsyncPersisterTest {
    private static final UUID TOPIC = ShareCoordinatorFixture.TOPIC;
    private final ShareCoordinatorFixture fixture = new ShareCoordinatorFixture();
    private final ShareStateCoordinator shareCoordinator = fixture.shareCoordinator;
    private final LocalSharePersister local = fixture.local;
    /** Group "held"'s calls answer only once this completes: a share coordinator that has not answered yet. */
    private volatile CompletableFuture<Void> answer = CompletableFuture.completedFuture(null);
    private final SharePersister held = new DelegatingSharePersister(local) {
        private CompletableFuture<Void> gate(String groupId) {
            return groupId.equals("held") ? answer : CompletableFuture.completedFuture(null);
        }
        @Override public CompletableFuture<Stored> summaryAsync(String groupId, UUID topicId, int partition) {
            return gate(groupId).thenCompose(v -> local.summaryAsync(groupId, topicId, partition));
        }
        @Override public CompletableFuture<Void> initializeAsync(String groupId, UUID topicId, int partition,
                                                                 int stateEpoch, long start) {
            return gate(groupId).thenCompose(v -> local.initializeAsync(groupId, topicId, partition, stateEpoch,
                    start));
        }
        @Override public CompletableFuture<Void> deleteAsync(String groupId, UUID topicId, int partition) {
            return gate(groupId).thenCompose(v -> local.deleteAsync(groupId, topicId, partition));
        }
    };
    private final ShareGroupCoordinator coordinator = new ShareGroupCoordinator(ShareGroupConfig.defaults(), fixture.view,
            id -> false, held, ShareGroupStore.IN_MEMORY);

    private CompletableFuture<ShareGroupCoordinator.HeartbeatResult> heartbeat(String groupId, String memberId,
                                                                               int epoch, long now) {
        return coordinator.heartbeatAsync(new ShareGroupCoordinator.HeartbeatRequest(groupId, memberId, epoch, null,
                epoch == 0 ? List.of("t") : null, "client", "/127.0.0.1"), now);
    }

    /** Makes group "held"'s share coordinator stop answering until the returned future completes. */
    private CompletableFuture<Void> hold() {
        CompletableFuture<Void> gate = new CompletableFuture<>();
        answer = gate;
        return gate;
    }

    private void assertOtherGroupsServed(String groupId, long now) throws Exception {
        CompletableFuture<ShareGroupCoordinator.HeartbeatResult> other = heartbeat(groupId, "o", 0, now);
        assertTrue(other.isDone(), "another group's heartbeat waits for nothing");
        assertTrue(other.get().memberEpoch() > 0);
    }

    @Test
    void theGroupCoordinatorShouldAnswerWithoutWaitingForTheShareCoordinator() throws Exception {
        // A heartbeat initializes the group's two share-partitions, but is answered at once, as Kafka 4.4's
        // GroupCoordinatorService.shareGroupHeartbeat completes with the shard write and runs persisterInitialize
        // in a timer task; the share-partitions get state once the share coordinator answers.
        CompletableFuture<Void> gate = hold();
        CompletableFuture<ShareGroupCoordinator.HeartbeatResult> joined = heartbeat("held", "m", 0, 0);
        assertTrue(joined.isDone(), "the heartbeat does not wait for the share coordinator");
        int epoch = joined.get().memberEpoch();
        assertTrue(epoch > 0);
        assertOtherGroupsServed("other-1", 0);
        assertEquals(0, local.stored().getOrDefault("held", Map.of()).size());
        assertNull(heartbeat("held", "m", epoch, 0).get().assignment(),
                "nothing to assign while the share-partitions are being initialized");
        gate.complete(null);
        assertEquals(List.of(0, 1), local.stored().get("held").get(TOPIC));
        ShareGroupCoordinator.HeartbeatResult assigned = heartbeat("held", "m", epoch, 1).get(10, TimeUnit.SECONDS);
        assertEquals(epoch + 1, assigned.memberEpoch(), "initialized share-partitions are assigned at a new epoch");
        assertEquals(java.util.Set.of(0, 1), assigned.assignment().get(TOPIC));
        heartbeat("held", "m", ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, 1).get(10, TimeUnit.SECONDS);

        // DescribeShareGroupOffsets: the summaries (-1: initialized, never loaded).
        gate = hold();
        CompletableFuture<List<ShareGroupCoordinator.PartitionOffset>> offsets = coordinator.offsetsAsync("held", 2);
        assertFalse(offsets.isDone());
        assertOtherGroupsServed("other-2", 2);
        gate.complete(null);
        assertEquals(List.of(new ShareGroupCoordinator.PartitionOffset(TOPIC, 0, -1, -1, 0),
                new ShareGroupCoordinator.PartitionOffset(TOPIC, 1, -1, -1, 0)), offsets.get(10, TimeUnit.SECONDS));

        // AlterShareGroupOffsets of the empty group: a new state epoch at the share coordinator.
        gate = hold();
        CompletableFuture<Void> altered = coordinator.alterOffsetsAsync("held",
                Map.of(new ShareSessions.Key(TOPIC, 0), 5L), 3);
        assertFalse(altered.isDone());
        assertOtherGroupsServed("other-3", 3);
        gate.complete(null);
        altered.get(10, TimeUnit.SECONDS);
        assertEquals(5, local.summary("held", TOPIC, 0).startOffset());

        // DeleteShareGroupOffsets, then DeleteGroups.
        gate = hold();
        CompletableFuture<Void> forgotten = coordinator.deleteOffsetsAsync("held", List.of(TOPIC), 4);
        assertFalse(forgotten.isDone());
        assertOtherGroupsServed("other-4", 4);
        gate.complete(null);
        forgotten.get(10, TimeUnit.SECONDS);
        assertNull(local.stored().get("held"), "the share coordinator deleted the group's state");

        heartbeat("held", "m2", 0, 5).get(10, TimeUnit.SECONDS);
        heartbeat("held", "m2", ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, 6).get(10, TimeUnit.SECONDS);
        gate = hold();
        CompletableFuture<Short> deleted = coordinator.deleteGroupAsync("held", 7);
        assertFalse(deleted.isDone());
        assertOtherGroupsServed("other-5", 7);
        assertTrue(coordinator.isShareGroup("held"), "the group goes only after its state");
        gate.complete(null);
        assertEquals(ErrorCodes.NONE, (short) deleted.get(10, TimeUnit.SECONDS));
        assertFalse(coordinator.isShareGroup("held"));
    }
}
