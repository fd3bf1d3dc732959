package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
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
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

import static org.junit.jupiter.api.Assertions.*;

/**
 * AlterShareGroupOffsets, DeleteShareGroupOffsets and DeleteGroups call the share coordinator without the group
 * coordinator's lock, as Kafka 4.4's GroupCoordinatorService chains a shard operation, the persister and a second
 * shard operation: a share coordinator that stalls (another broker that does not answer, a slow disk) holds up only
 * the admin request waiting for it, never another group's heartbeat; and the answers stay Kafka's. Likewise the
 * release of a leaving member's records, written to the share coordinator once the lock is released.
 */
class ShareGroupAdminTest {
    private static final UUID TOPIC = ShareCoordinatorFixture.TOPIC;
    private static final long WAIT_S = 10;
    private final ShareCoordinatorFixture fixture = new ShareCoordinatorFixture();
    private final ShareStateCoordinator shareCoordinator = fixture.shareCoordinator;
    private final LocalSharePersister local = fixture.local;
    /** Counted down when a call for group "slow" reaches the share coordinator; the call then waits for {@link #go}. */
    private final CountDownLatch asked = new CountDownLatch(1);
    private final CountDownLatch go = new CountDownLatch(1);
    /** The share coordinator, stalling on every write of group "slow" once {@link #stall} is set. */
    private volatile boolean stall;
    /** How often the share coordinator was asked for the state of group "slow"'s share-partitions' summaries. */
    private final java.util.concurrent.atomic.AtomicInteger slowSummaries = new java.util.concurrent.atomic.AtomicInteger();
    private final SharePersister stalling = new DelegatingSharePersister(local) {
        private void maybeStall(String groupId) {
            if (!stall || !groupId.equals("slow")) return;
            asked.countDown();
            try {
                assertTrue(go.await(30, TimeUnit.SECONDS));
            } catch (InterruptedException e) {
                throw new IllegalStateException(e);
            }
        }
        @Override public Stored summary(String groupId, UUID topicId, int partition) {
            if (groupId.equals("slow")) slowSummaries.incrementAndGet();
            return local.summary(groupId, topicId, partition);
        }
        @Override public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long start) {
            maybeStall(groupId);
            local.initialize(groupId, topicId, partition, stateEpoch, start);
        }
        @Override public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                                    long startOffset, int deliveryCompleteCount, List<ShareStateBatch> batches) {
            maybeStall(groupId);
            local.write(groupId, topicId, partition, stateEpoch, leaderEpoch, startOffset, deliveryCompleteCount, batches);
        }
        @Override public void delete(String groupId, UUID topicId, int partition) {
            maybeStall(groupId);
            local.delete(groupId, topicId, partition);
        }
    };
    private final ShareGroupCoordinator coordinator = new ShareGroupCoordinator(ShareGroupConfig.defaults(), fixture.view,
            id -> false, stalling, ShareGroupStore.IN_MEMORY);

    private ShareGroupCoordinator.HeartbeatResult heartbeat(String groupId, String memberId, int epoch, long now) {
        return coordinator.heartbeat(new ShareGroupCoordinator.HeartbeatRequest(groupId, memberId, epoch, null,
                epoch == 0 ? List.of("t") : null, "client", "/127.0.0.1"), now);
    }

    /** Group "slow" with both share-partitions initialized at the share coordinator, its member gone. */
    private void emptySlowGroupWithState() {
        heartbeat("slow", "s", 0, 0);
        heartbeat("slow", "s", ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, 1);
        assertNotNull(state("slow", 0));
        assertNotNull(state("slow", 1));
    }

    private ShareStateCoordinator.State state(String groupId, int partition) {
        return fixture.state(groupId, partition);
    }

    /**
     * Starts {@code operation} on group "slow" with its share coordinator stalled, then checks that the coordinator
     * meanwhile serves another group's join and heartbeat, and describes "slow" itself; returns the operation's
     * outcome once the share coordinator answers.
     */
    private <T> T whileTheShareCoordinatorStalls(Supplier<T> operation) throws Exception {
        stall = true;
        CompletableFuture<T> slow = CompletableFuture.supplyAsync(operation);
        try {
            assertTrue(asked.await(WAIT_S, TimeUnit.SECONDS), "the operation reached the share coordinator");
            ShareGroupCoordinator.HeartbeatResult joined =
                    CompletableFuture.supplyAsync(() -> heartbeat("g", "m", 0, 2)).get(WAIT_S, TimeUnit.SECONDS);
            assertEquals(2, joined.memberEpoch(), "another group's member joins meanwhile");
            // As Kafka 4.4, the share-partitions the join initialized are assigned at the next heartbeat's epoch.
            assertEquals(3, CompletableFuture.supplyAsync(() -> heartbeat("g", "m", 2, 3)).get(WAIT_S, TimeUnit.SECONDS)
                    .memberEpoch());
            assertEquals(ShareGroupCoordinator.STATE_EMPTY, CompletableFuture.supplyAsync(
                    () -> coordinator.describe("slow", 3).state()).get(WAIT_S, TimeUnit.SECONDS));
            assertFalse(slow.isDone(), "the operation waits for its share coordinator");
        } finally {
            go.countDown();
        }
        return slow.get(30, TimeUnit.SECONDS);
    }

    @Test
    void deleteGroupsShouldNotHoldTheCoordinatorWhileTheShareCoordinatorDeletesTheState() throws Exception {
        emptySlowGroupWithState();
        assertEquals(ErrorCodes.NONE, (short) whileTheShareCoordinatorStalls(() -> coordinator.deleteGroup("slow", 4)));
        assertNull(state("slow", 0));
        assertNull(state("slow", 1));
        assertFalse(coordinator.isShareGroup("slow"));
        assertTrue(coordinator.isShareGroup("g"));
    }

    @Test
    void deleteShareGroupOffsetsShouldNotHoldTheCoordinatorWhileTheShareCoordinatorDeletesTheState() throws Exception {
        emptySlowGroupWithState();
        whileTheShareCoordinatorStalls(() -> {
            coordinator.deleteOffsets("slow", List.of(TOPIC), 4);
            return null;
        });
        assertNull(state("slow", 0));
        assertEquals(List.of(), coordinator.offsets("slow", 5), "the topic left the group's share-partitions");
    }

    @Test
    void alterShareGroupOffsetsShouldNotHoldTheCoordinatorWhileTheShareCoordinatorInitializes() throws Exception {
        whileTheShareCoordinatorStalls(() -> {
            coordinator.alterOffsets("slow", Map.of(new ShareSessions.Key(TOPIC, 0), 42L), 4);
            return null;
        });
        assertEquals(42, state("slow", 0).startOffset());
        // Initialized at 42: nothing done from there yet (Kafka's count 0).
        assertEquals(List.of(new ShareGroupCoordinator.PartitionOffset(TOPIC, 0, 42, 0, 0)),
                coordinator.offsets("slow", 5));
    }

    @Test
    void aMemberJoiningDuringTheDeletionShouldLeaveTheGroupNonEmptyAndItsStateInitializedAgain() throws Exception {
        emptySlowGroupWithState();
        stall = true;
        CompletableFuture<Short> deletion = CompletableFuture.supplyAsync(() -> coordinator.deleteGroup("slow", 4));
        assertTrue(asked.await(WAIT_S, TimeUnit.SECONDS));
        stall = false;
        // The joining member's heartbeat leaves the share-partitions being deleted alone (deleting, under way).
        int epoch = CompletableFuture.supplyAsync(() -> heartbeat("slow", "late", 0, 5)).get(WAIT_S, TimeUnit.SECONDS)
                .memberEpoch();
        go.countDown();
        // As Kafka's deleteGroups, which checks the group again after the persister deleted its state.
        assertEquals(ErrorCodes.NON_EMPTY_GROUP, (short) deletion.get(30, TimeUnit.SECONDS));
        assertTrue(coordinator.isMember("slow", "late"));
        assertNull(state("slow", 0), "the state went before the member joined");
        // The member's next heartbeat initializes the share-partitions again: a topic new to the group, at -1.
        heartbeat("slow", "late", epoch, 6);
        assertEquals(ShareStateCoordinator.UNINITIALIZED_START_OFFSET, state("slow", 0).startOffset());
        assertEquals(ShareStateCoordinator.UNINITIALIZED_START_OFFSET, state("slow", 1).startOffset());
    }

    @Test
    void aHeartbeatDuringADeletionShouldLeaveTheTopicBeingDeletedAlone() throws Exception {
        emptySlowGroupWithState();
        stall = true;
        CompletableFuture<Void> deletion = CompletableFuture.runAsync(
                () -> coordinator.deleteOffsets("slow", List.of(TOPIC), 4));
        assertTrue(asked.await(WAIT_S, TimeUnit.SECONDS));
        stall = false;
        int before = slowSummaries.get();
        // Out of the initialized set (in the deleting one) but not to be initialized again while its state goes:
        // whatever the heartbeat initialized, the deletion would then remove.
        int epoch = CompletableFuture.supplyAsync(() -> heartbeat("slow", "late", 0, 5)).get(WAIT_S, TimeUnit.SECONDS)
                .memberEpoch();
        assertEquals(before, slowSummaries.get(), "the heartbeat looked at the share-partitions being deleted");
        go.countDown();
        deletion.get(30, TimeUnit.SECONDS);
        assertNull(state("slow", 0));
        // Once the deletion is done the member's next heartbeat initializes the topic, new to the group again.
        heartbeat("slow", "late", epoch, 6);
        assertEquals(ShareStateCoordinator.UNINITIALIZED_START_OFFSET, state("slow", 0).startOffset());
        assertEquals(ShareStateCoordinator.UNINITIALIZED_START_OFFSET, state("slow", 1).startOffset());
    }

    @Test
    void aLeavingMembersReleaseShouldNotHoldTheCoordinatorWhileTheShareCoordinatorWritesIt() throws Exception {
        int epoch = heartbeat("slow", "s", 0, 0).memberEpoch();
        SharePartition sp = coordinator.partition("slow", TOPIC, 0, () -> 0L);
        assertEquals(5, sp.acquire("s", 5, List.of(new SharePartition.Batch(0, 9, false)), 0).get(0).lastOffset() + 1);
        assertEquals(SharePartition.State.ACQUIRED, sp.state(0));
        ShareGroupCoordinator.HeartbeatResult left = whileTheShareCoordinatorStalls(() -> heartbeat("slow", "s",
                ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, 4));
        assertEquals(ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, left.memberEpoch());
        assertTrue(epoch > 0);
        assertEquals(SharePartition.State.AVAILABLE, sp.state(0), "the member's records went back");
        assertEquals(1, sp.deliveryCount(0));
    }

    @Test
    void theAnswersShouldStayKafkas() {
        ApiException unknown = assertThrows(ApiException.class,
                () -> coordinator.deleteOffsets("nobody", List.of(TOPIC), 0));
        assertEquals(ErrorCodes.GROUP_ID_NOT_FOUND, unknown.error());
        assertEquals("Group nobody not found.", unknown.getMessage());
        assertEquals(ErrorCodes.GROUP_ID_NOT_FOUND, coordinator.deleteGroup("nobody", 0));
        heartbeat("busy", "m", 0, 0);
        assertEquals(ErrorCodes.NON_EMPTY_GROUP, coordinator.deleteGroup("busy", 1));
        ApiException nonEmpty = assertThrows(ApiException.class,
                () -> coordinator.alterOffsets("busy", Map.of(new ShareSessions.Key(TOPIC, 0), 1L), 1));
        assertEquals(ErrorCodes.NON_EMPTY_GROUP, nonEmpty.error());
        assertEquals("Share group busy is not empty.", nonEmpty.getMessage());
        assertEquals(ErrorCodes.NON_EMPTY_GROUP, assertThrows(ApiException.class,
                () -> coordinator.deleteOffsets("busy", List.of(TOPIC), 1)).error());
    }
}
