package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;
import org.apache.kafka.common.protocol.ByteBufferAccessor;
import org.apache.kafka.coordinator.group.generated.ShareGroupCurrentMemberAssignmentValue;
import org.apache.kafka.coordinator.group.generated.ShareGroupMemberMetadataValue;
import org.apache.kafka.coordinator.group.generated.ShareGroupStatePartitionMetadataValue;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/**
 * Share groups and their members survive a coordinator restart as in Kafka 4.4: the coordinator writes the ShareGroup*
 * records of __consumer_offsets, a new coordinator replays them, and members carry on at their epochs with a session
 * timeout counted from the load.
 */
class ShareGroupPersistenceTest {
    private static final UUID TOPIC = new UUID(1, 1);
    private static final Map<String, TopicRef> TOPICS = Map.of("t", new TopicRef("t", TOPIC, 4));
    private static final TopicsView VIEW = new TopicsView() {
        @Override public TopicRef byName(String name) { return TOPICS.get(name); }
        @Override public TopicRef byId(UUID id) {
            return TOPICS.values().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
        }
        @Override public Collection<String> names() { return TOPICS.keySet(); }
    };
    private static final int SESSION_TIMEOUT_MS = ShareGroupConfig.defaults().sessionTimeoutMs();

    /** The records as appended, in order, as one offsets partition holds them. */
    private final List<byte[][]> log = new ArrayList<>();

    private ShareGroupCoordinator coordinator() {
        return coordinator(SharePersister.NONE);
    }

    private ShareGroupCoordinator coordinator(SharePersister persister) {
        return new ShareGroupCoordinator(ShareGroupConfig.defaults(), VIEW, id -> false, persister,
                new ShareGroupOffsetsStore((groupId, records) -> log.addAll(records)));
    }

    private ShareGroupCoordinator restarted(long nowMs) {
        return restarted(nowMs, SharePersister.NONE);
    }

    private ShareGroupCoordinator restarted(long nowMs, SharePersister persister) {
        ShareGroupCoordinator c = coordinator(persister);
        for (byte[][] kv : log) c.replay(kv[0], kv[1]);
        c.loaded(nowMs);
        return c;
    }

    private static ShareGroupCoordinator.HeartbeatResult heartbeat(ShareGroupCoordinator c, String member, int epoch,
                                                                   List<String> subscription, long now) {
        return c.heartbeat(new ShareGroupCoordinator.HeartbeatRequest("g", member, epoch, null, subscription,
                "client-" + member, "/127.0.0.1"), now);
    }

    @Test
    void membersShouldCarryOnAtTheirEpochsAfterARestart() {
        ShareGroupCoordinator first = coordinator();
        heartbeat(first, "a", 0, List.of("t"), 0);
        assertEquals(3, heartbeat(first, "b", 0, List.of("t"), 10).memberEpoch());
        ShareGroupCoordinator.Description before = first.describe("g", 30);
        assertEquals(3, before.groupEpoch());

        ShareGroupCoordinator second = restarted(1_000);
        assertEquals(before, second.describe("g", 1_000));
        assertEquals(Map.of("g", ShareGroupCoordinator.STATE_STABLE), second.listGroups(1_000));
        // b heartbeats at its epoch and is accepted; its assignment is not sent again (unchanged).
        ShareGroupCoordinator.HeartbeatResult b = heartbeat(second, "b", 3, null, 1_100);
        assertEquals(3, b.memberEpoch());
        assertNull(b.assignment());
        // a was still at epoch 2 (b joined after its last heartbeat): it moves to 3 now and gets its new assignment.
        ShareGroupCoordinator.HeartbeatResult a = heartbeat(second, "a", 2, null, 1_100);
        assertEquals(3, a.memberEpoch());
        assertEquals(Map.of(TOPIC, new java.util.TreeSet<>(Set.of(0, 2))), a.assignment());
        assertEquals(ShareGroupCoordinator.STATE_STABLE, second.describe("g", 1_200).state());
    }

    @Test
    void aLoadedMembersSessionShouldRunFromTheLoad() {
        ShareGroupCoordinator first = coordinator();
        heartbeat(first, "a", 0, List.of("t"), 0);
        long load = 10 * SESSION_TIMEOUT_MS;
        ShareGroupCoordinator second = restarted(load);
        assertEquals(1, second.describe("g", load + SESSION_TIMEOUT_MS - 1).members().size());
        ShareGroupCoordinator.Description expired = second.describe("g", load + SESSION_TIMEOUT_MS);
        assertEquals(List.of(), expired.members());
        assertEquals(ShareGroupCoordinator.STATE_EMPTY, expired.state());
        // The expiry is written too: a further restart finds the group empty at the epoch it reached.
        ShareGroupCoordinator third = restarted(load + SESSION_TIMEOUT_MS + 1);
        assertEquals(expired.groupEpoch(), third.describe("g", load + SESSION_TIMEOUT_MS + 1).groupEpoch());
        assertEquals(List.of(), third.describe("g", load + SESSION_TIMEOUT_MS + 1).members());
    }

    @Test
    void aMemberThatLeftAndADeletedGroupShouldStayGoneAfterARestart() {
        ShareGroupCoordinator first = coordinator();
        heartbeat(first, "a", 0, List.of("t"), 0);
        heartbeat(first, "b", 0, List.of("t"), 0);
        heartbeat(first, "b", ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, null, 5);
        ShareGroupCoordinator second = restarted(100);
        assertEquals(List.of("a"), second.describe("g", 100).members().stream()
                .map(ShareGroupCoordinator.MemberDescription::memberId).toList());
        ApiException unknown = assertThrows(ApiException.class, () -> heartbeat(second, "b", 3, null, 101));
        assertEquals(ErrorCodes.UNKNOWN_MEMBER_ID, unknown.error());

        heartbeat(second, "a", ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, null, 102);
        assertEquals(ErrorCodes.NONE, second.deleteGroup("g", 103));
        ShareGroupCoordinator third = restarted(200);
        assertEquals(Map.of(), third.listGroups(200));
        assertEquals(ErrorCodes.GROUP_ID_NOT_FOUND, third.describe("g", 200).error());
    }

    /**
     * As Kafka 4.4's group coordinator (sharePartitionsEligibleForOffsetDeletion, completeDeleteShareGroupOffsets):
     * DeleteShareGroupOffsets moves the topic from InitializedTopics to DeletingTopics in the group's
     * ShareGroupStatePartitionMetadata record before the share coordinator deletes its state, and out of it once
     * deleted. A deletion the share coordinator refused leaves the topic deleting across a restart: it has no offsets
     * to describe, and the next deletion deletes every partition of it.
     */
    @Test
    void aTopicWhoseStateIsBeingDeletedShouldStayDeletingAcrossARestart() {
        DeletionRecorder persister = new DeletionRecorder();
        ShareGroupCoordinator first = coordinator(persister);
        heartbeat(first, "a", 0, List.of("t"), 0);
        heartbeat(first, "a", ShareGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, null, 5);
        assertEquals(4, first.offsets("g", 6).size());
        persister.refusing = true;
        ApiException refused = assertThrows(ApiException.class, () -> first.deleteOffsets("g", List.of(TOPIC), 10));
        assertEquals(ErrorCodes.COORDINATOR_NOT_AVAILABLE, refused.error());
        ShareGroupStatePartitionMetadataValue recorded = lastStatePartitionMetadata();
        assertEquals(List.of(), recorded.initializedTopics());
        assertEquals(1, recorded.deletingTopics().size());
        assertEquals(TOPIC, new UUID(recorded.deletingTopics().get(0).topicId().getMostSignificantBits(),
                recorded.deletingTopics().get(0).topicId().getLeastSignificantBits()));
        assertEquals("t", recorded.deletingTopics().get(0).topicName());

        ShareGroupCoordinator second = restarted(100, persister);
        assertEquals(List.of(), second.offsets("g", 100), "a topic being deleted has no offsets to describe");
        persister.refusing = false;
        persister.deleted.clear();
        second.deleteOffsets("g", List.of(TOPIC), 110);
        assertEquals(Set.of(0, 1, 2, 3), Set.copyOf(persister.deleted), "every partition of the deleting topic");
        assertEquals(List.of(), lastStatePartitionMetadata().deletingTopics());
        assertEquals(List.of(), restarted(200, persister).offsets("g", 200));
    }

    private ShareGroupStatePartitionMetadataValue lastStatePartitionMetadata() {
        for (int i = log.size() - 1; i >= 0; i--) {
            byte[][] kv = log.get(i);
            if (ShareGroupRecords.readKey(kv[0]).type() != ShareGroupRecords.STATE_PARTITION_METADATA) continue;
            return new ShareGroupStatePartitionMetadataValue(
                    new ByteBufferAccessor(ByteBuffer.wrap(kv[1], 2, kv[1].length - 2)), (short) 0);
        }
        return fail("no ShareGroupStatePartitionMetadata record");
    }

    /** Keeps no state; records the partitions whose state it deleted, and refuses deletions while asked to. */
    private static final class DeletionRecorder implements SharePersister {
        volatile boolean refusing;
        final List<Integer> deleted = new java.util.concurrent.CopyOnWriteArrayList<>();

        @Override public Stored read(String groupId, UUID topicId, int partition, int leaderEpoch) {
            return NONE.read(groupId, topicId, partition, leaderEpoch);
        }
        @Override public Stored summary(String groupId, UUID topicId, int partition) {
            return NONE.summary(groupId, topicId, partition);
        }
        @Override public void initialize(String groupId, UUID topicId, int partition, int stateEpoch, long start) {
        }
        @Override public void write(String groupId, UUID topicId, int partition, int stateEpoch, int leaderEpoch,
                                    long startOffset, int deliveryCompleteCount,
                                    List<io.tandem.server.kafka.group.share.state.ShareStateBatch> b) {
        }
        @Override public void delete(String groupId, UUID topicId, int partition) {
            if (refusing) throw new ApiException(ErrorCodes.COORDINATOR_NOT_AVAILABLE, "not now");
            deleted.add(partition);
        }
        @Override public Map<String, Map<UUID, List<Integer>>> stored() {
            return Map.of();
        }
    }

    @Test
    void recordsShouldBeWhatKafkasCoordinatorReads() {
        ShareGroupCoordinator first = coordinator();
        heartbeat(first, "a", 0, List.of("t"), 0);
        int firstHeartbeatRecords = log.size();
        // The next heartbeat finds the initialized share-partitions unassigned (Kafka 4.4's
        // initializedAssignmentPending): a new group epoch assigns them.
        heartbeat(first, "a", 2, null, 1);
        ShareGroupMemberMetadataValue member = null;
        List<ShareGroupCurrentMemberAssignmentValue> current = new ArrayList<>();
        List<Short> types = new ArrayList<>();
        for (byte[][] kv : log) {
            ShareGroupRecords.Key key = ShareGroupRecords.readKey(kv[0]);
            types.add(key.type());
            ByteBufferAccessor value = new ByteBufferAccessor(ByteBuffer.wrap(kv[1], 2, kv[1].length - 2));
            if (key.type() == ShareGroupRecords.MEMBER_METADATA) {
                member = new ShareGroupMemberMetadataValue(value, (short) 0);
            } else if (key.type() == ShareGroupRecords.CURRENT_MEMBER_ASSIGNMENT) {
                current.add(new ShareGroupCurrentMemberAssignmentValue(value, (short) 0));
            }
        }
        // Kafka's order for a first heartbeat: member, group epoch, target assignment (the new member's, empty:
        // nothing is initialized yet), its metadata, current, the subscribed share-partitions as initializing; then,
        // once the share coordinator initialized them, again as initialized. The second: group epoch, target,
        // its metadata, current.
        assertEquals(List.of(ShareGroupRecords.MEMBER_METADATA, ShareGroupRecords.GROUP_METADATA,
                ShareGroupRecords.TARGET_ASSIGNMENT_MEMBER, ShareGroupRecords.TARGET_ASSIGNMENT_METADATA,
                ShareGroupRecords.CURRENT_MEMBER_ASSIGNMENT, ShareGroupRecords.STATE_PARTITION_METADATA,
                ShareGroupRecords.STATE_PARTITION_METADATA), types.subList(0, firstHeartbeatRecords));
        assertEquals(List.of(ShareGroupRecords.GROUP_METADATA, ShareGroupRecords.TARGET_ASSIGNMENT_MEMBER,
                ShareGroupRecords.TARGET_ASSIGNMENT_METADATA, ShareGroupRecords.CURRENT_MEMBER_ASSIGNMENT),
                types.subList(firstHeartbeatRecords, types.size()));
        assertNotNull(member);
        assertEquals("client-a", member.clientId());
        assertEquals(List.of("t"), member.subscribedTopicNames());
        assertNull(member.rackId());
        assertEquals(2, current.size());
        assertEquals(2, current.get(0).memberEpoch());
        assertEquals(List.of(), current.get(0).assignedPartitions());
        assertEquals(3, current.get(1).memberEpoch());
        assertEquals(0, current.get(1).state());
        assertEquals(Set.of(0, 1, 2, 3), Set.copyOf(current.get(1).assignedPartitions().get(0).partitions()));
    }
}
