package io.tandem.server.kafka.group;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.GroupMessages.GroupDescription;
import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.MemberDescription;
import io.tandem.server.kafka.group.GroupMessages.Protocol;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;
import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * A classic group's records in {@code __consumer_offsets} bring it back with its members when the coordinator moves:
 * the coordinator writes them through its {@link GroupStore} into a log of Kafka's bytes, and a second coordinator
 * replays that log as a broker taking the lead of the partition would.
 */
class ClassicGroupRecordsTest {
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;
    private static final TopicPartition T0 = new TopicPartition("t", 0);

    /** The offsets partition as key/value bytes, oldest first; a null value is a tombstone. */
    private final List<byte[][]> log = new ArrayList<>();
    private final RecordingGroupStore store = new RecordingGroupStore(log);
    private final GroupCoordinator coordinator = new GroupCoordinator(
            GroupConfig.defaults().withInitialRebalanceDelayMs(0), store);
    private long now = 1_000;

    private static List<Protocol> range(String subscription) {
        return List.of(new Protocol("range", subscription.getBytes(StandardCharsets.UTF_8)));
    }

    private static JoinRequest join(String memberId, String instanceId, String clientId, String subscription) {
        return new JoinRequest("g", memberId, instanceId, clientId, "/10.0.0." + clientId.length(), SESSION_MS,
                REBALANCE_MS, "consumer", range(subscription), true);
    }

    private AtomicReference<JoinResult> send(GroupCoordinator c, JoinRequest request) {
        AtomicReference<JoinResult> result = new AtomicReference<>();
        c.joinGroup(request, now, result::set);
        return result;
    }

    private AtomicReference<SyncResult> sync(String memberId, int generation, Map<String, byte[]> assignments) {
        AtomicReference<SyncResult> result = new AtomicReference<>();
        coordinator.syncGroup(new SyncRequest("g", generation, memberId, null, "consumer", "range", assignments),
                now, result::set);
        return result;
    }

    /** A dynamic member "a" and a static member "b" (instance-b), Stable at generation 2 with their assignments. */
    private JoinResult[] stableGroupOfTwo() {
        JoinResult aFirst = send(coordinator, join("", null, "a", "sub-a")).get();
        JoinResult a = send(coordinator, join(aFirst.memberId(), null, "a", "sub-a")).get();
        sync(a.memberId(), 1, Map.of(a.memberId(), new byte[]{1}));
        AtomicReference<JoinResult> b = send(coordinator, join("", "instance-b", "bb", "sub-b"));
        AtomicReference<JoinResult> aAgain = send(coordinator, join(a.memberId(), null, "a", "sub-a"));
        assertEquals(2, aAgain.get().generationId());
        AtomicReference<SyncResult> bSync = sync(b.get().memberId(), 2, Map.of());
        sync(a.memberId(), 2, Map.of(a.memberId(), new byte[]{1}, b.get().memberId(), new byte[]{2}));
        assertEquals(NONE, bSync.get().error());
        return new JoinResult[]{aAgain.get(), b.get()};
    }

    /** A new coordinator that reads the log as a broker taking the lead of the offsets partition at {@code at}. */
    private GroupCoordinator reload(long at) {
        return reload(at, GroupConfig.defaults().withInitialRebalanceDelayMs(0));
    }

    private GroupCoordinator reload(long at, GroupConfig config) {
        GroupCoordinator loaded = new GroupCoordinator(config, store);
        Set<String> touched = new LinkedHashSet<>();
        for (byte[][] kv : log) {
            OffsetsTopicCodec.Key key = OffsetsTopicCodec.readKey(kv[0]);
            touched.add(key.groupId());
            if (key.partition() != null) {
                loaded.loadOffset(key.groupId(), key.partition(),
                        kv[1] == null ? null : OffsetsTopicCodec.readOffsetValue(kv[1]));
            } else if (kv[1] != null) {
                loaded.loadGroupMetadata(key.groupId(), GroupMetadataCodec.decode(kv[1]));
            } else {
                loaded.loadGroupDeletion(key.groupId());
            }
        }
        loaded.groupsLoaded(touched, at);
        return loaded;
    }

    @Test
    void shouldBringAStableGroupBackWithItsMembersSoTheirHeartbeatsCarryOn() {
        JoinResult[] members = stableGroupOfTwo();
        GroupDescription before = coordinator.describeGroup("g");

        now += 2_000;
        GroupCoordinator moved = reload(now);
        GroupDescription after = moved.describeGroup("g");
        assertEquals(GroupState.STABLE, after.state());
        assertEquals(before.protocolType(), after.protocolType());
        assertEquals(before.protocol(), after.protocol());
        assertEquals(before.members().size(), after.members().size());
        for (int i = 0; i < before.members().size(); i++) {
            MemberDescription b = before.members().get(i);
            MemberDescription a = after.members().get(i);
            assertEquals(b.memberId(), a.memberId());
            assertEquals(b.groupInstanceId(), a.groupInstanceId());
            assertEquals(b.clientId(), a.clientId());
            assertEquals(b.clientHost(), a.clientHost());
            assertArrayEquals(b.metadata(), a.metadata());
            assertArrayEquals(b.assignment(), a.assignment());
        }
        assertEquals(members[0].memberId(), moved.group("g").leaderId);

        for (JoinResult m : members) {
            assertEquals(NONE, moved.heartbeat("g", m.memberId(), m == members[1] ? "instance-b" : null, 2, now));
        }
        assertEquals(GroupState.STABLE, moved.group("g").state, "no rebalance after the move");
        assertEquals(2, moved.group("g").generationId);
        assertEquals(ILLEGAL_GENERATION, moved.heartbeat("g", members[0].memberId(), null, 1, now));
        // A member rejoining with what it had gets its generation back, as from a coordinator that never moved.
        JoinResult rejoined = send(moved, join(members[1].memberId(), "instance-b", "bb", "sub-b")).get();
        assertEquals(NONE, rejoined.error());
        assertEquals(2, rejoined.generationId());
    }

    @Test
    void shouldStartTheLoadedMembersSessionTimersWhenThePartitionIsRead() {
        JoinResult[] members = stableGroupOfTwo();
        // The coordinator moves long after the members' last heartbeats: their sessions count from the load.
        long loadedAt = now + 5 * SESSION_MS;
        GroupCoordinator moved = reload(loadedAt);
        moved.tick(loadedAt + SESSION_MS - 1);
        assertEquals(2, moved.group("g").members.size());
        assertEquals(GroupState.STABLE, moved.group("g").state);

        // One member heartbeats, the other is gone: only that one expires, and the group rebalances without it.
        assertEquals(NONE, moved.heartbeat("g", members[0].memberId(), null, 2, loadedAt + SESSION_MS - 1));
        moved.tick(loadedAt + SESSION_MS);
        assertEquals(Set.of(members[0].memberId()), moved.group("g").members.keySet());
        assertEquals(GroupState.PREPARING_REBALANCE, moved.group("g").state);
        assertTrue(moved.group("g").staticMembers.isEmpty(), "the static member's instance id went with it");
    }

    @Test
    void shouldRebalanceALoadedGroupOverTheMaximumSize() {
        stableGroupOfTwo();
        GroupCoordinator moved = reload(now, GroupConfig.defaults().withInitialRebalanceDelayMs(0).withMaxGroupSize(1));
        assertEquals(GroupState.PREPARING_REBALANCE, moved.group("g").state, "as Kafka's onGroupLoaded");
    }

    @Test
    void shouldKeepAStaticMembersNewMemberIdAcrossTheMove() {
        JoinResult[] members = stableGroupOfTwo();
        // instance-b restarts: a new member id, no rebalance, and the record says so.
        JoinResult restarted = send(coordinator, join("", "instance-b", "bb", "sub-b")).get();
        assertEquals(NONE, restarted.error());
        assertNotEquals(members[1].memberId(), restarted.memberId());
        assertEquals(2, restarted.generationId());

        GroupCoordinator moved = reload(now);
        assertEquals(restarted.memberId(), moved.group("g").staticMembers.get("instance-b"));
        assertEquals(NONE, moved.heartbeat("g", restarted.memberId(), "instance-b", 2, now));
        assertEquals(FENCED_INSTANCE_ID, moved.heartbeat("g", members[1].memberId(), "instance-b", 2, now));
        assertArrayEquals(new byte[]{2}, moved.group("g").member(restarted.memberId()).assignment);
    }

    @Test
    void shouldPutTheOldStaticMemberBackWhenItsNewIdCannotBeWritten() {
        JoinResult[] members = stableGroupOfTwo();
        store.failGroupStores(NOT_COORDINATOR);
        JoinResult refused = send(coordinator, join("", "instance-b", "bb", "sub-b")).get();
        assertEquals(NOT_COORDINATOR, refused.error());
        assertEquals(members[1].memberId(), coordinator.group("g").staticMembers.get("instance-b"));
        assertEquals(NONE, coordinator.heartbeat("g", members[1].memberId(), "instance-b", 2, now));
    }

    @Test
    void shouldAnswerTheSyncWithTheWriteErrorAndRebalanceWhenTheAssignmentCannotBeWritten() {
        JoinResult aFirst = send(coordinator, join("", null, "a", "sub-a")).get();
        JoinResult a = send(coordinator, join(aFirst.memberId(), null, "a", "sub-a")).get();
        store.failGroupStores(NOT_COORDINATOR);
        SyncResult synced = sync(a.memberId(), 1, Map.of(a.memberId(), new byte[]{1})).get();
        assertEquals(NOT_COORDINATOR, synced.error());
        assertEquals(GroupState.PREPARING_REBALANCE, coordinator.group("g").state);
        assertTrue(log.isEmpty());
    }

    @Test
    void shouldWriteTheEmptyGroupWhenItsLastMemberLeavesAndTombstonesWhenItIsDeleted() {
        JoinResult[] members = stableGroupOfTwo();
        assertEquals(NONE, coordinator.commitOffsets("g", members[0].memberId(), null, 2,
                Map.of(T0, new CommittedOffset(5, -1, "", -1)), now).get(T0));
        coordinator.leaveGroup("g", List.of(new LeavingMember(members[0].memberId(), null),
                new LeavingMember(members[1].memberId(), "instance-b")), now);
        assertEquals(GroupState.EMPTY, coordinator.group("g").state);

        GroupCoordinator moved = reload(now);
        assertEquals(GroupState.EMPTY, moved.describeGroup("g").state());
        assertEquals("consumer", moved.describeGroup("g").protocolType());
        assertEquals(3, moved.group("g").generationId, "the rebalance that emptied the group is a generation");
        assertEquals(now, moved.group("g").emptySinceMs, "offsets of an Empty group are kept from when it emptied");
        assertEquals(5, moved.fetchOffsets("g", null).get(T0).offset());

        assertEquals(NONE, coordinator.deleteGroups(List.of("g")).get("g"));
        assertNull(OffsetsTopicCodec.readKey(log.get(log.size() - 1)[0]).partition());
        assertNull(log.get(log.size() - 1)[1], "the group's tombstone");
        assertNull(log.get(log.size() - 2)[1], "its offset's tombstone before it");
        assertEquals(GROUP_ID_NOT_FOUND, reload(now).describeGroup("g").error());
    }

    @Test
    void shouldKeepTheOffsetsOfAGroupWhoseRecordAloneIsTombstoned() {
        coordinator.commitOffsets("g", "", null, -1, Map.of(T0, new CommittedOffset(9, -1, "", -1)), now);
        JoinResult aFirst = send(coordinator, join("", null, "a", "sub-a")).get();
        JoinResult a = send(coordinator, join(aFirst.memberId(), null, "a", "sub-a")).get();
        sync(a.memberId(), 1, Map.of(a.memberId(), new byte[]{1}));
        // As when the group became a consumer group: the record goes, the offsets stay (Kafka's loading).
        store.groupRecordDeleted("g");
        GroupCoordinator moved = reload(now);
        assertEquals(GroupState.EMPTY, moved.describeGroup("g").state());
        assertTrue(moved.group("g").members.isEmpty());
        assertEquals(9, moved.fetchOffsets("g", null).get(T0).offset());
    }
}
