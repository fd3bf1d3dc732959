package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.Protocol;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A classic group is Stable only once its generation's record is in every in-sync replica, as Kafka 3.9's
 * doSyncGroup moves it in storeGroup's callback: until then it stays CompletingRebalance and SyncGroups wait; a write
 * that fails resets the assignment and rebalances; a write that completes after the group moved on changes nothing.
 * The store holds replication back ({@link RecordingGroupStore#holdReplication}) as a stalled follower would.
 */
class ClassicSyncReplicationTest {
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;

    private final List<byte[][]> log = new ArrayList<>();
    private final RecordingGroupStore store = new RecordingGroupStore(log);
    private final GroupCoordinator coordinator = new GroupCoordinator(
            GroupConfig.defaults().withInitialRebalanceDelayMs(0), store);
    private long now = 1_000;

    private static JoinRequest join(String memberId, String instanceId, String clientId) {
        return new JoinRequest("g", memberId, instanceId, clientId, "/10.0.0.1", SESSION_MS, REBALANCE_MS,
                "consumer", List.of(new Protocol("range", clientId.getBytes(StandardCharsets.UTF_8))), true);
    }

    private AtomicReference<JoinResult> send(JoinRequest request) {
        AtomicReference<JoinResult> result = new AtomicReference<>();
        coordinator.joinGroup(request, now, result::set);
        return result;
    }

    private AtomicReference<SyncResult> sync(String memberId, int generation, Map<String, byte[]> assignments) {
        AtomicReference<SyncResult> result = new AtomicReference<>();
        coordinator.syncGroup(new SyncRequest("g", generation, memberId, null, "consumer", "range", assignments),
                now, result::set);
        return result;
    }

    private GroupState state() {
        return coordinator.describeGroup("g").state();
    }

    /** Leader "a" and static follower "b" (instance-b) joined generation 2, now CompletingRebalance. */
    private JoinResult[] generationTwoJoined() {
        JoinResult aFirst = send(join("", null, "a")).get();
        JoinResult a = send(join(aFirst.memberId(), null, "a")).get();
        assertEquals(NONE, sync(a.memberId(), 1, Map.of(a.memberId(), new byte[]{1})).get().error());
        AtomicReference<JoinResult> b = send(join("", "instance-b", "b"));
        JoinResult aAgain = send(join(a.memberId(), null, "a")).get();
        assertEquals(2, aAgain.generationId());
        assertEquals(aAgain.memberId(), aAgain.leaderId());
        assertEquals(GroupState.COMPLETING_REBALANCE, state());
        return new JoinResult[]{aAgain, b.get()};
    }

    @Test
    void shouldStayCompletingRebalanceAndHoldEverySyncUntilTheAssignmentIsReplicated() {
        JoinResult[] members = generationTwoJoined();
        String a = members[0].memberId();
        String b = members[1].memberId();
        store.holdReplication();
        AtomicReference<SyncResult> leader = sync(a, 2, Map.of(a, new byte[]{1}, b, new byte[]{2}));
        assertNull(leader.get(), "the leader was answered before its assignment was replicated");
        assertEquals(GroupState.COMPLETING_REBALANCE, state());
        // A follower that syncs while the record is being replicated waits as well.
        AtomicReference<SyncResult> follower = sync(b, 2, Map.of());
        assertNull(follower.get());
        assertEquals(NONE, coordinator.heartbeat("g", b, "instance-b", 2, now));

        now += 10;
        store.replicate(now);
        assertEquals(GroupState.STABLE, state());
        assertEquals(now, coordinator.group("g").stateSinceMs, "Stable from when the record was replicated");
        assertEquals(NONE, leader.get().error());
        assertArrayEquals(new byte[]{1}, leader.get().assignment());
        assertEquals(NONE, follower.get().error());
        assertArrayEquals(new byte[]{2}, follower.get().assignment());
    }

    @Test
    void shouldResetTheAssignmentAndRebalanceWhenTheRecordIsNotReplicated() {
        JoinResult[] members = generationTwoJoined();
        String a = members[0].memberId();
        String b = members[1].memberId();
        store.holdReplication();
        AtomicReference<SyncResult> follower = sync(b, 2, Map.of());
        AtomicReference<SyncResult> leader = sync(a, 2, Map.of(a, new byte[]{1}, b, new byte[]{2}));
        // The leadership of the offsets partition moved before the record reached the ISR (NOT_COORDINATOR, as
        // Kafka maps NOT_LEADER_OR_FOLLOWER).
        store.loseHeld(NOT_COORDINATOR, now);
        assertEquals(NOT_COORDINATOR, leader.get().error());
        assertEquals(NOT_COORDINATOR, follower.get().error());
        assertEquals(0, leader.get().assignment().length);
        assertEquals(GroupState.PREPARING_REBALANCE, state());
        assertEquals(0, coordinator.group("g").member(b).assignment.length, "the unwritten assignment is not kept");
        assertEquals(REBALANCE_IN_PROGRESS, coordinator.heartbeat("g", a, null, 2, now));
    }

    @Test
    void shouldIgnoreAReplicatedAssignmentOnceTheGroupRebalanced() {
        JoinResult[] members = generationTwoJoined();
        String a = members[0].memberId();
        String b = members[1].memberId();
        store.holdReplication();
        AtomicReference<SyncResult> leader = sync(a, 2, Map.of(a, new byte[]{1}, b, new byte[]{2}));
        // A member joins while the record is written: the group rebalances and generation 2's assignment is void.
        send(join("", "instance-c", "c"));
        assertEquals(GroupState.PREPARING_REBALANCE, state());
        assertEquals(REBALANCE_IN_PROGRESS, leader.get().error());

        store.replicate(now);
        assertEquals(GroupState.PREPARING_REBALANCE, state());
        assertEquals(0, coordinator.group("g").member(a).assignment.length);
    }

    @Test
    void shouldAnswerARestartedStaticMemberOnlyOnceItsNewMemberIdIsReplicated() {
        JoinResult[] members = generationTwoJoined();
        String a = members[0].memberId();
        String b = members[1].memberId();
        sync(b, 2, Map.of());
        assertEquals(NONE, sync(a, 2, Map.of(a, new byte[]{1}, b, new byte[]{2})).get().error());
        assertEquals(GroupState.STABLE, state());

        store.holdReplication();
        AtomicReference<JoinResult> restarted = send(join("", "instance-b", "b"));
        assertNull(restarted.get(), "the new member id was answered before it was replicated");
        store.replicate(now);
        assertEquals(NONE, restarted.get().error());
        assertEquals(2, restarted.get().generationId());
        assertNotEquals(b, restarted.get().memberId());
        assertEquals(GroupState.STABLE, state());
    }
}
