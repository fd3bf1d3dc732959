package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.producer.VerificationGuard;
import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeaveResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
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

class GroupCoordinatorTest {
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;
    private final List<String> committedLog = new ArrayList<>();
    private final GroupCoordinator coordinator = new GroupCoordinator(GroupConfig.defaults().withInitialRebalanceDelayMs(0),
            new GroupStore() {
                @Override public void offsetsCommitted(String g, Map<TopicPartition, CommittedOffset> o) { committedLog.add(g + o.keySet()); }
                @Override public void offsetsDeleted(String g, java.util.Collection<TopicPartition> p) { committedLog.add("delete " + g + p); }
                @Override public void groupDeleted(String g, java.util.Collection<TopicPartition> p) {
                    committedLog.add("deleteGroup " + g);
                }
                @Override public void groupStored(String g, GroupMetadataCodec.StoredGroup group, long nowMs,
                                                  Written written) {
                    written.done((short) 0, nowMs);
                }
                @Override public void whenWritten(String g, long nowMs, Written written) {
                    written.done((short) 0, nowMs);
                }
                @Override public void groupRecordDeleted(String g) { }
                @Override public short transactionalOffsetsCommitted(String g, long producerId, short epoch,
                                                                     Map<TopicPartition, CommittedOffset> o,
                VerificationGuard guard) {
                    committedLog.add("txn " + producerId + " " + g + o.keySet());
                    return 0;
                }
            });
    private long now = 1_000;

    private static List<Protocol> protocols(String... names) {
        List<Protocol> list = new ArrayList<>();
        for (String n : names) list.add(new Protocol(n, n.getBytes(StandardCharsets.UTF_8)));
        return list;
    }

    private JoinRequest join(String memberId, String instanceId, boolean requireKnown, List<Protocol> protocols) {
        return new JoinRequest("g", memberId, instanceId, "client", "/127.0.0.1", SESSION_MS, REBALANCE_MS,
                "consumer", protocols, requireKnown);
    }

    private AtomicReference<JoinResult> send(JoinRequest request) {
        AtomicReference<JoinResult> result = new AtomicReference<>();
        coordinator.joinGroup(request, now, result::set);
        return result;
    }

    private AtomicReference<SyncResult> sync(String memberId, int generation, Map<String, byte[]> assignments) {
        AtomicReference<SyncResult> result = new AtomicReference<>();
        coordinator.syncGroup(new SyncRequest("g", generation, memberId, null, "consumer", null, assignments), now,
                result::set);
        return result;
    }

    /** Joins one dynamic member through the v4+ MEMBER_ID_REQUIRED dance and returns its JoinGroup answer. */
    private JoinResult joinAlone() {
        JoinResult first = send(join("", null, true, protocols("range"))).get();
        assertEquals(MEMBER_ID_REQUIRED, first.error());
        assertFalse(first.memberId().isEmpty());
        return send(join(first.memberId(), null, true, protocols("range"))).get();
    }

    @Test
    void shouldRequireKnownMemberIdThenFormGenerationOne() {
        JoinResult joined = joinAlone();
        assertEquals(NONE, joined.error());
        assertEquals(1, joined.generationId());
        assertEquals(joined.memberId(), joined.leaderId());
        assertEquals("range", joined.protocolName());
        assertEquals(1, joined.members().size());
        assertEquals(GroupState.COMPLETING_REBALANCE, coordinator.group("g").state);

        SyncResult synced = sync(joined.memberId(), 1, Map.of(joined.memberId(), new byte[]{7})).get();
        assertEquals(NONE, synced.error());
        assertArrayEquals(new byte[]{7}, synced.assignment());
        assertEquals(GroupState.STABLE, coordinator.group("g").state);
    }

    @Test
    void shouldRejectUnknownMemberIdsAndBadSessionTimeouts() {
        assertEquals(UNKNOWN_MEMBER_ID, send(join("nobody", null, true, protocols("range"))).get().error());
        JoinRequest tooShort = new JoinRequest("g", "", null, "c", "h", 10, REBALANCE_MS, "consumer",
                protocols("range"), true);
        assertEquals(INVALID_SESSION_TIMEOUT, send(tooShort).get().error());
        JoinRequest noGroup = new JoinRequest("", "", null, "c", "h", SESSION_MS, REBALANCE_MS, "consumer",
                protocols("range"), true);
        assertEquals(INVALID_GROUP_ID, send(noGroup).get().error());
    }

    @Test
    void shouldRebalanceWhenSecondMemberJoinsAndWaitForTheFirstToRejoin() {
        JoinResult a = joinAlone();
        sync(a.memberId(), 1, Map.of(a.memberId(), new byte[]{1}));
        // The second member joins: the group goes to PreparingRebalance and waits for the first to rejoin.
        JoinResult bFirst = send(join("", null, true, protocols("range"))).get();
        AtomicReference<JoinResult> b = send(join(bFirst.memberId(), null, true, protocols("range")));
        assertNull(b.get());
        assertEquals(GroupState.PREPARING_REBALANCE, coordinator.group("g").state);
        assertEquals(REBALANCE_IN_PROGRESS, coordinator.heartbeat("g", a.memberId(), null, 1, now));
        // Commits are still accepted while preparing (Kafka allows them so consumers can commit before revoking).
        assertEquals(NONE, coordinator.commitOffsets("g", a.memberId(), null, 1,
                Map.of(new TopicPartition("t", 0), new CommittedOffset(5, -1, "m", -1)), now).get(new TopicPartition("t", 0)));

        AtomicReference<JoinResult> aAgain = send(join(a.memberId(), null, true, protocols("range")));
        assertEquals(NONE, aAgain.get().error());
        assertEquals(NONE, b.get().error());
        assertEquals(2, aAgain.get().generationId());
        assertEquals(a.memberId(), aAgain.get().leaderId(), "the old leader stays leader");
        assertEquals(2, aAgain.get().members().size());
        assertTrue(b.get().members().isEmpty(), "only the leader sees the member list");

        assertEquals(ILLEGAL_GENERATION, coordinator.heartbeat("g", a.memberId(), null, 1, now));
        AtomicReference<SyncResult> bSync = sync(b.get().memberId(), 2, Map.of());
        assertNull(bSync.get(), "a follower's SyncGroup waits for the leader's assignment");
        assertEquals(REBALANCE_IN_PROGRESS, coordinator.commitOffsets("g", a.memberId(), null, 2,
                Map.of(new TopicPartition("t", 0), new CommittedOffset(6, -1, "", -1)), now).get(new TopicPartition("t", 0)));
        sync(a.memberId(), 2, Map.of(a.memberId(), new byte[]{1}, b.get().memberId(), new byte[]{2}));
        assertArrayEquals(new byte[]{2}, bSync.get().assignment());
        assertEquals(NONE, coordinator.heartbeat("g", b.get().memberId(), null, 2, now));
    }

    @Test
    void shouldRemoveMembersThatDidNotRejoinWithinTheRebalanceTimeout() {
        JoinResult a = joinAlone();
        sync(a.memberId(), 1, Map.of());
        JoinResult bFirst = send(join("", null, true, protocols("range"))).get();
        AtomicReference<JoinResult> b = send(join(bFirst.memberId(), null, true, protocols("range")));
        // a keeps heartbeating but never rejoins.
        now += REBALANCE_MS / 2;
        coordinator.heartbeat("g", a.memberId(), null, 1, now);
        coordinator.tick(now);
        assertNull(b.get());
        now += REBALANCE_MS / 2;
        coordinator.tick(now);
        assertEquals(NONE, b.get().error());
        assertEquals(b.get().memberId(), b.get().leaderId());
        assertEquals(1, b.get().members().size());
        assertEquals(UNKNOWN_MEMBER_ID, coordinator.heartbeat("g", a.memberId(), null, 2, now));
    }

    @Test
    void shouldExpireSilentMemberAfterSessionTimeoutAndGoEmpty() {
        JoinResult a = joinAlone();
        sync(a.memberId(), 1, Map.of());
        now += SESSION_MS - 1;
        coordinator.tick(now);
        assertEquals(NONE, coordinator.heartbeat("g", a.memberId(), null, 1, now));
        now += SESSION_MS;
        coordinator.tick(now);
        // The member left by expiry: rebalance completes at once with nobody, generation 2, Empty.
        assertEquals(GroupState.EMPTY, coordinator.group("g").state);
        assertEquals(2, coordinator.group("g").generationId);
        assertEquals(UNKNOWN_MEMBER_ID, coordinator.heartbeat("g", a.memberId(), null, 1, now));
    }

    @Test
    void shouldReportEachDeadlineWhenItIsDueAndTellTheTimerAfterEachRequest() {
        // The group timer sleeps until nextDeadlineMs(): a deadline reported late would be fired late.
        List<Long> told = new ArrayList<>();
        coordinator.deadlineListener(told::add);
        assertEquals(Long.MAX_VALUE, coordinator.nextDeadlineMs());
        JoinResult first = send(join("", null, true, protocols("range"))).get();
        assertEquals(now + SESSION_MS, coordinator.nextDeadlineMs(), "the pending member id's deadline");
        assertEquals(List.of(now + SESSION_MS), told);
        JoinResult a = send(join(first.memberId(), null, true, protocols("range"))).get();
        // Joined, not yet synced: its session runs again from the JoinGroup answer (shorter than the sync deadline).
        assertEquals(now + SESSION_MS, coordinator.nextDeadlineMs(), "the session timeout before SyncGroup");
        assertEquals(now + SESSION_MS, told.get(told.size() - 1));

        sync(a.memberId(), 1, Map.of());
        long sessionEnd = now + SESSION_MS;
        assertEquals(sessionEnd, coordinator.nextDeadlineMs(), "the session timeout once synced");
        coordinator.tick(sessionEnd - 1);
        assertEquals(GroupState.STABLE, coordinator.group("g").state, "not a millisecond early");
        coordinator.tick(sessionEnd);
        assertEquals(GroupState.EMPTY, coordinator.group("g").state);
        assertEquals(Long.MAX_VALUE, coordinator.nextDeadlineMs(), "nothing left to wait for");
    }

    @Test
    void shouldExpirePendingMemberIdThatNeverCameBack() {
        JoinResult first = send(join("", null, true, protocols("range"))).get();
        now += SESSION_MS;
        coordinator.tick(now);
        assertEquals(UNKNOWN_MEMBER_ID, send(join(first.memberId(), null, true, protocols("range"))).get().error());
    }

    @Test
    void shouldSelectTheProtocolMostMembersPreferAmongThoseAllSupport() {
        JoinResult a1 = send(join("", null, true, protocols("cooperative-sticky", "range"))).get();
        AtomicReference<JoinResult> a = send(join(a1.memberId(), null, true, protocols("cooperative-sticky", "range")));
        assertEquals("cooperative-sticky", a.get().protocolName());
        sync(a.get().memberId(), 1, Map.of());
        // b only speaks range: the group must fall back to range, the only protocol all support.
        JoinResult b1 = send(join("", null, true, protocols("range"))).get();
        AtomicReference<JoinResult> b = send(join(b1.memberId(), null, true, protocols("range")));
        send(join(a.get().memberId(), null, true, protocols("cooperative-sticky", "range")));
        assertEquals("range", b.get().protocolName());
        // c speaks neither protocol in common: rejected.
        assertEquals(INCONSISTENT_GROUP_PROTOCOL, send(join("", null, true, protocols("roundrobin"))).get().error());
    }

    @Test
    void shouldLeaveInBatchAndReportUnknownMembersPerMember() {
        JoinResult a = joinAlone();
        sync(a.memberId(), 1, Map.of());
        LeaveResult result = coordinator.leaveGroup("g", List.of(new LeavingMember(a.memberId(), null),
                new LeavingMember("ghost", null)), now);
        assertEquals(NONE, result.error());
        assertEquals(NONE, result.members().get(0).error());
        assertEquals(UNKNOWN_MEMBER_ID, result.members().get(1).error());
        assertEquals(GroupState.EMPTY, coordinator.group("g").state);
    }

    @Test
    void shouldLetStaticMemberRestartWithoutRebalanceAndFenceTheOldMemberId() {
        AtomicReference<JoinResult> a = send(join("", "instance-1", true, protocols("range")));
        assertEquals(NONE, a.get().error(), "static members get their id without MEMBER_ID_REQUIRED");
        sync(a.get().memberId(), 1, Map.of(a.get().memberId(), new byte[]{9}));
        // The same instance restarts and joins with no member id.
        JoinResult restarted = send(join("", "instance-1", true, protocols("range"))).get();
        assertEquals(NONE, restarted.error());
        assertEquals(1, restarted.generationId(), "no rebalance for a static member rejoining unchanged");
        assertNotEquals(a.get().memberId(), restarted.memberId());
        assertEquals(GroupState.STABLE, coordinator.group("g").state);
        assertEquals(FENCED_INSTANCE_ID, coordinator.heartbeat("g", a.get().memberId(), "instance-1", 1, now));
        assertEquals(NONE, coordinator.heartbeat("g", restarted.memberId(), "instance-1", 1, now));
        AtomicReference<SyncResult> synced = new AtomicReference<>();
        coordinator.syncGroup(new SyncRequest("g", 1, restarted.memberId(), "instance-1", null, null, Map.of()), now,
                synced::set);
        assertArrayEquals(new byte[]{9}, synced.get().assignment(), "the restarted instance keeps its assignment");
        // The admin client removes a static member by instance id alone.
        LeaveResult left = coordinator.leaveGroup("g", List.of(new LeavingMember("", "instance-1")), now);
        assertEquals(NONE, left.members().get(0).error());
        assertEquals(GroupState.EMPTY, coordinator.group("g").state);
    }

    @Test
    void shouldAnswerPendingSyncWithRebalanceInProgressWhenAMemberLeavesDuringCompletingRebalance() {
        JoinResult a = joinAlone();
        sync(a.memberId(), 1, Map.of());
        JoinResult b1 = send(join("", null, true, protocols("range"))).get();
        AtomicReference<JoinResult> b = send(join(b1.memberId(), null, true, protocols("range")));
        send(join(a.memberId(), null, true, protocols("range")));
        AtomicReference<SyncResult> bSync = sync(b.get().memberId(), 2, Map.of());
        coordinator.leaveGroup("g", List.of(new LeavingMember(a.memberId(), null)), now);
        assertEquals(REBALANCE_IN_PROGRESS, bSync.get().error());
    }

    @Test
    void shouldDropMembersThatNeverSyncAfterTheRebalanceTimeout() {
        JoinResult a = joinAlone();
        now += REBALANCE_MS;
        coordinator.tick(now);
        assertEquals(GroupState.EMPTY, coordinator.group("g").state);
        assertEquals(UNKNOWN_MEMBER_ID, coordinator.heartbeat("g", a.memberId(), null, 1, now));
    }

    @Test
    void shouldWaitForTheInitialRebalanceDelayAndExtendItForNewMembers() {
        GroupCoordinator delayed = new GroupCoordinator(GroupConfig.defaults(), GroupStore.IN_MEMORY);
        AtomicReference<JoinResult> a = new AtomicReference<>();
        delayed.joinGroup(join("", null, false, protocols("range")), now, a::set);
        assertNull(a.get());
        now += 2_000;
        AtomicReference<JoinResult> b = new AtomicReference<>();
        delayed.joinGroup(join("", null, false, protocols("range")), now, b::set);
        delayed.tick(now + 1_000);
        assertNull(a.get(), "a member joined during the delay, so it is extended");
        delayed.tick(now + 4_000);
        assertEquals(NONE, a.get().error());
        assertEquals(2, a.get().members().size());
        assertEquals(1, b.get().generationId());
    }

    @Test
    void shouldWaitTheWholeInitialRebalanceDelayEvenWhenTheRebalanceTimeoutIsShorter() {
        // Kafka (3.9's InitialDelayedJoin, 4.x's prepareRebalance) waits group.initial.rebalance.delay.ms itself the
        // first time, whatever the members' rebalance timeout; only the extensions are bounded by what is left of it.
        GroupCoordinator delayed = new GroupCoordinator(GroupConfig.defaults(), GroupStore.IN_MEMORY);
        AtomicReference<JoinResult> a = new AtomicReference<>();
        delayed.joinGroup(new JoinRequest("g", "", null, "client", "/127.0.0.1", SESSION_MS, 1_000, "consumer",
                protocols("range"), false), now, a::set);
        delayed.tick(now + 1_500);
        assertNull(a.get(), "the initial delay (3 s) runs past the 1 s rebalance timeout");
        delayed.tick(now + 3_000);
        assertEquals(NONE, a.get().error());
        assertEquals(1, a.get().generationId());
    }

    @Test
    void shouldCommitAndFetchOffsetsWithMetadataForSimpleConsumers() {
        TopicPartition tp = new TopicPartition("t", 3);
        Map<TopicPartition, Short> errors = coordinator.commitOffsets("simple", "", null, -1,
                Map.of(tp, new CommittedOffset(42, 7, "my metadata", -1)), now);
        assertEquals(NONE, errors.get(tp));
        CommittedOffset fetched = coordinator.fetchOffsets("simple", List.of(tp, new TopicPartition("t", 4))).get(tp);
        assertEquals(42, fetched.offset());
        assertEquals(7, fetched.leaderEpoch());
        assertEquals("my metadata", fetched.metadata());
        assertEquals(1, coordinator.fetchOffsets("simple", null).size());
        assertEquals(List.of("simple[t-3]"), committedLog);
        assertEquals(OFFSET_METADATA_TOO_LARGE, coordinator.commitOffsets("simple", "", null, -1,
                Map.of(tp, new CommittedOffset(1, -1, "x".repeat(5000), -1)), now).get(tp));
        assertEquals(ILLEGAL_GENERATION, coordinator.commitOffsets("absent", "m", null, 3,
                Map.of(tp, new CommittedOffset(1, -1, "", -1)), now).get(tp));
    }

    @Test
    void shouldRefuseToDeleteNonEmptyGroupsAndDeleteEmptyOnes() {
        JoinResult a = joinAlone();
        assertEquals(NON_EMPTY_GROUP, coordinator.deleteGroups(List.of("g")).get("g"));
        assertEquals(GROUP_ID_NOT_FOUND, coordinator.deleteGroups(List.of("nope")).get("nope"));
        coordinator.leaveGroup("g", List.of(new LeavingMember(a.memberId(), null)), now);
        assertEquals(NONE, coordinator.deleteGroups(List.of("g")).get("g"));
        assertTrue(coordinator.listGroups().isEmpty());
        assertEquals(GROUP_ID_NOT_FOUND, coordinator.describeGroup("g").error());
    }

    @Test
    void shouldRefuseOffsetDeleteForTopicsAStableConsumerGroupSubscribesTo() {
        byte[] subscription = {0, 0, 0, 0, 0, 1, 0, 1, 't'};
        JoinResult first = send(new JoinRequest("g", "", null, "c", "h", SESSION_MS, REBALANCE_MS, "consumer",
                List.of(new Protocol("range", subscription)), true)).get();
        JoinResult a = send(new JoinRequest("g", first.memberId(), null, "c", "h", SESSION_MS, REBALANCE_MS,
                "consumer", List.of(new Protocol("range", subscription)), true)).get();
        sync(a.memberId(), 1, Map.of());
        coordinator.commitOffsets("g", a.memberId(), null, 1, Map.of(new TopicPartition("t", 0),
                new CommittedOffset(1, -1, "", -1), new TopicPartition("u", 0), new CommittedOffset(1, -1, "", -1)), now);
        GroupCoordinator.OffsetDeleteResult result = coordinator.deleteOffsets("g",
                List.of(new TopicPartition("t", 0), new TopicPartition("u", 0)));
        assertEquals(GROUP_SUBSCRIBED_TO_TOPIC, result.partitions().get(new TopicPartition("t", 0)));
        assertEquals(NONE, result.partitions().get(new TopicPartition("u", 0)));
        assertEquals(1, coordinator.fetchOffsets("g", null).size());
        assertEquals("Stable", coordinator.describeGroup("g").state().toString());
        assertEquals("range", coordinator.describeGroup("g").protocol());
    }

    private static final long RETENTION_MS = 7 * 24 * 3600_000L;

    @Test
    void shouldExpireAStandaloneGroupsOffsetsByCommitTimeAndThenRemoveTheGroup() {
        TopicPartition old = new TopicPartition("t", 0);
        TopicPartition recent = new TopicPartition("t", 1);
        coordinator.commitOffsets("simple", "", null, -1, Map.of(old, new CommittedOffset(1, -1, "", -1)), now);
        long oldCommit = now;
        now += 1_000;
        coordinator.commitOffsets("simple", "", null, -1, Map.of(recent, new CommittedOffset(2, -1, "", -1)), now);
        committedLog.clear();
        assertEquals(0, coordinator.expireOffsets(oldCommit + RETENTION_MS - 1, RETENTION_MS));
        assertEquals(1, coordinator.expireOffsets(oldCommit + RETENTION_MS, RETENTION_MS));
        assertEquals(List.of(recent), List.copyOf(coordinator.fetchOffsets("simple", null).keySet()));
        assertEquals(1, coordinator.expireOffsets(now + RETENTION_MS, RETENTION_MS));
        assertTrue(coordinator.fetchOffsets("simple", null).isEmpty());
        assertEquals(0, coordinator.groupCount(), "an empty group without offsets is removed");
        assertEquals(List.of("delete simple[t-0]", "delete simple[t-1]", "deleteGroup simple"), committedLog,
                "tombstones are written, so a restart does not bring the offsets back");
    }

    @Test
    void shouldRetainAnEmptiedGroupsOffsetsFromWhenItBecameEmpty() {
        JoinResult a = joinAlone();
        sync(a.memberId(), 1, Map.of());
        TopicPartition tp = new TopicPartition("t", 0);
        coordinator.commitOffsets("g", a.memberId(), null, 1, Map.of(tp, new CommittedOffset(5, -1, "", -1)), now);
        long committedAt = now;
        now += 3_600_000;
        coordinator.leaveGroup("g", List.of(new LeavingMember(a.memberId(), null)), now);
        assertEquals(GroupState.EMPTY, coordinator.group("g").state);
        long emptyAt = now;
        assertEquals(0, coordinator.expireOffsets(committedAt + RETENTION_MS, RETENTION_MS),
                "counted from when the group became empty, not from the commit");
        assertEquals(1, coordinator.expireOffsets(emptyAt + RETENTION_MS, RETENTION_MS));
        assertNull(coordinator.group("g"), "the empty group without offsets is gone");
    }

    @Test
    void shouldKeepAStableConsumerGroupsSubscribedOffsetsAndExpireTheOthersByCommitTime() {
        byte[] subscription = {0, 0, 0, 0, 0, 1, 0, 1, 't'};
        JoinResult first = send(new JoinRequest("g", "", null, "c", "h", SESSION_MS, REBALANCE_MS, "consumer",
                List.of(new Protocol("range", subscription)), true)).get();
        JoinResult a = send(new JoinRequest("g", first.memberId(), null, "c", "h", SESSION_MS, REBALANCE_MS,
                "consumer", List.of(new Protocol("range", subscription)), true)).get();
        sync(a.memberId(), 1, Map.of());
        coordinator.commitOffsets("g", a.memberId(), null, 1, Map.of(new TopicPartition("t", 0),
                new CommittedOffset(1, -1, "", -1), new TopicPartition("u", 0), new CommittedOffset(1, -1, "", -1)), now);
        long later = now + 10 * RETENTION_MS;
        // Heartbeats keep the member alive; expiry runs on a coordinator whose clock moved on.
        assertEquals(1, coordinator.expireOffsets(later, RETENTION_MS));
        assertEquals(List.of(new TopicPartition("t", 0)), List.copyOf(coordinator.fetchOffsets("g", null).keySet()));
        assertEquals(GroupState.STABLE, coordinator.group("g").state);
    }

    @Test
    void shouldKeepOffsetsOfAGroupThatIsRebalancing() {
        JoinResult a = joinAlone();
        sync(a.memberId(), 1, Map.of());
        assertEquals(NONE, coordinator.commitOffsets("g", a.memberId(), null, 1, Map.of(new TopicPartition("t", 0),
                new CommittedOffset(1, -1, "", -1)), now).get(new TopicPartition("t", 0)));
        JoinResult bFirst = send(join("", null, true, protocols("range"))).get();
        send(join(bFirst.memberId(), null, true, protocols("range")));
        assertEquals(GroupState.PREPARING_REBALANCE, coordinator.group("g").state);
        assertEquals(0, coordinator.expireOffsets(now + 10 * RETENTION_MS, RETENTION_MS));
        assertEquals(1, coordinator.fetchOffsets("g", null).size());
    }

    @Test
    void shouldExpireAnOffsetCommittedWithItsOwnRetentionTimeAtThatTime() {
        TopicPartition tp = new TopicPartition("t", 0);
        coordinator.commitOffsets("simple", "", null, -1, Map.of(tp, new CommittedOffset(1, -1, "", -1, now + 500)), now);
        assertEquals(0, coordinator.expireOffsets(now + 499, RETENTION_MS));
        assertEquals(1, coordinator.expireOffsets(now + 500, RETENTION_MS), "the commit's retention, not the broker's");
    }

    void transactionalCommitsWithGroupMetadataShouldBeFencedLikeConsumersKip447() {
        JoinResult a = joinAlone();
        TopicPartition tp = new TopicPartition("t", 0);
        Map<TopicPartition, CommittedOffset> offsets = Map.of(tp, new CommittedOffset(3, -1, "", -1));
        assertEquals(Map.of(tp, UNKNOWN_MEMBER_ID), coordinator.commitTransactionalOffsets("g", 1L, (short) 0,
                "zombie", null, 1, offsets, now));
        assertEquals(Map.of(tp, ILLEGAL_GENERATION), coordinator.commitTransactionalOffsets("g", 1L, (short) 0,
                a.memberId(), null, 7, offsets, now));
        assertEquals(Map.of(tp, NONE), coordinator.commitTransactionalOffsets("g", 1L, (short) 0,
                a.memberId(), null, a.generationId(), offsets, now));
        assertEquals(Map.of(tp, NONE), coordinator.commitTransactionalOffsets("g", 2L, (short) 0, "", null, -1,
                offsets, now), "producers before KIP-447 send no group metadata and are not checked");
        assertEquals(Map.of(tp, INVALID_GROUP_ID), coordinator.commitTransactionalOffsets("", 2L, (short) 0, "",
                null, -1, offsets, now));
    }
    void transactionalOffsetsShouldStayInvisibleUntilTheCommitMarkerOfTheirOffsetsPartition() {
        TopicPartition tp = new TopicPartition("t", 0);
        int offsetsPartition = OffsetsTopicCodec.partitionFor("g", 50);
        assertEquals(Map.of(tp, NONE), coordinator.commitTransactionalOffsets("g", 42L, (short) 0, "", null, -1,
                Map.of(tp, new CommittedOffset(5, -1, "m", -1)), now));
        assertEquals(List.of("txn 42 g[t-0]"), committedLog, "written as producer 42's transactional batch");
        assertTrue(coordinator.fetchOffsets("g", List.of(tp)).isEmpty(), "not visible while the transaction is open");
        assertTrue(coordinator.hasPendingTransactionalOffset("g", tp));
        coordinator.completeTransactionalOffsets(42L, true, (offsetsPartition + 1) % 50, 50);
        assertTrue(coordinator.hasPendingTransactionalOffset("g", tp), "a marker on another offsets partition");
        coordinator.completeTransactionalOffsets(42L, true, offsetsPartition, 50);
        assertFalse(coordinator.hasPendingTransactionalOffset("g", tp));
        assertEquals(new CommittedOffset(5, -1, "m", now), coordinator.fetchOffsets("g", List.of(tp)).get(tp));
    }
    void anAbortMarkerShouldDropTheTransactionsOffsets() {
        TopicPartition tp = new TopicPartition("t", 0);
        coordinator.commitOffsets("g", "", null, -1, Map.of(tp, new CommittedOffset(1, -1, "", -1)), now);
        coordinator.commitTransactionalOffsets("g", 42L, (short) 0, "", null, -1,
                Map.of(tp, new CommittedOffset(9, -1, "", -1)), now);
        coordinator.completeTransactionalOffsets(42L, false, OffsetsTopicCodec.partitionFor("g", 50), 50);
        assertEquals(1, coordinator.fetchOffsets("g", List.of(tp)).get(tp).offset());
        assertFalse(coordinator.hasPendingTransactionalOffset("g", tp));
    }
}
