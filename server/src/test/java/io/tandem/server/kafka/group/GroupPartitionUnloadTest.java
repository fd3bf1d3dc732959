package io.tandem.server.kafka.group;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.Protocol;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * Kafka 3.9's GroupCoordinator.validateGroupStatus (COORDINATOR_LOAD_IN_PROGRESS while the group's partition loads,
 * NOT_COORDINATOR when another broker leads it, with each API's own answer) and onResignation, for an offsets
 * partition this broker resigned (the topic deleted): the partition's groups and offsets leave memory, a member waiting for its JoinGroup answer gets
 * NOT_COORDINATOR, requests for a group there answer NOT_COORDINATOR while groups of other partitions carry on, and
 * once the partition is loaded again the group starts afresh.
 */
class GroupPartitionUnloadTest {
    private static final int PARTITIONS = 50;
    private static final int SESSION_MS = 10_000;
    private static final TopicPartition EVENTS = new TopicPartition("events", 0);
    private final GroupCoordinator coordinator = new GroupCoordinator(GroupConfig.defaults()
            .withInitialRebalanceDelayMs(0), GroupStore.IN_MEMORY);
    private final long now = 1_000;

    @Test
    void aDeletedOffsetsPartitionsGroupsGoAndAnswerNotCoordinatorUntilItIsLoadedAgain() {
        String lostGroup = "lost";
        int lostPartition = OffsetsTopicCodec.partitionFor(lostGroup, PARTITIONS);
        String otherGroup = groupOnAnotherPartition(lostPartition);

        // "lost": one member in a stable group, a second one waiting for the rebalance it started; offsets committed.
        JoinResult first = joinAlone(lostGroup);
        assertEquals(NONE, sync(lostGroup, first.memberId(), first.generationId()).error());
        assertEquals(NONE, coordinator.commitOffsets(lostGroup, first.memberId(), null, first.generationId(),
                Map.of(EVENTS, new CommittedOffset(3, -1, "", now, -1)), now).get(EVENTS));
        AtomicReference<JoinResult> waiting = join(lostGroup, "");
        assertEquals(MEMBER_ID_REQUIRED, waiting.get().error());
        waiting = join(lostGroup, waiting.get().memberId());
        assertNull(waiting.get(), "the second member waits for the first to rejoin");
        coordinator.commitOffsets(otherGroup, "", null, -1, Map.of(EVENTS, new CommittedOffset(5, -1, "", now, -1)), now);

        assertEquals(1, coordinator.unloadPartition(lostPartition, PARTITIONS), "the lost partition's one group");

        assertEquals(NOT_COORDINATOR, waiting.get().error(), "the waiting JoinGroup is answered");
        assertFalse(coordinator.hasGroup(lostGroup));
        assertEquals(NOT_COORDINATOR, coordinator.heartbeat(lostGroup, first.memberId(), null, first.generationId(), now));
        assertEquals(NOT_COORDINATOR, join(lostGroup, "").get().error());
        assertEquals(NOT_COORDINATOR, sync(lostGroup, first.memberId(), first.generationId()).error());
        assertEquals(NOT_COORDINATOR, coordinator.leaveGroup(lostGroup,
                List.of(new LeavingMember(first.memberId(), null)), now).error());
        assertEquals(NOT_COORDINATOR, coordinator.commitOffsets(lostGroup, "", null, -1,
                Map.of(EVENTS, new CommittedOffset(4, -1, "", now, -1)), now).get(EVENTS));
        assertEquals(NOT_COORDINATOR, coordinator.describeGroup(lostGroup).error());
        // The other partition's group (offsets only, Empty) is deleted as ever.
        assertEquals(Map.of(lostGroup, NOT_COORDINATOR, otherGroup, NONE),
                coordinator.deleteGroups(List.of(lostGroup, otherGroup)));
        assertTrue(coordinator.fetchOffsets(lostGroup, null).isEmpty(), "its offsets left memory");

        coordinator.partitionLoaded(lostPartition);
        assertTrue(coordinator.fetchOffsets(lostGroup, null).isEmpty(), "nothing comes back from before the loss");
        JoinResult again = joinAlone(lostGroup);
        assertEquals(NONE, again.error());
        assertEquals(1, again.generationId(), "a new group, generation 1");
    }

    @Test
    void aLoadingPartitionsGroupsAnswerAsKafkasValidateGroupStatusDoes() {
        String group = "loading";
        int partition = OffsetsTopicCodec.partitionFor(group, PARTITIONS);
        coordinator.leadership(PARTITIONS, p -> true);
        JoinResult member = joinAlone(group);
        assertEquals(NONE, sync(group, member.memberId(), member.generationId()).error());

        coordinator.partitionLoading(partition);
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, join(group, "").get().error());
        assertEquals(REBALANCE_IN_PROGRESS, sync(group, member.memberId(), member.generationId()).error(),
                "SyncGroup while loading: the member rejoins without looking for its coordinator");
        assertEquals(NONE, coordinator.heartbeat(group, member.memberId(), null, member.generationId(), now),
                "a heartbeat while loading is answered blindly");
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, coordinator.commitOffsets(group, member.memberId(), null,
                member.generationId(), Map.of(EVENTS, new CommittedOffset(3, -1, "", now, -1)), now).get(EVENTS));
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, coordinator.leaveGroup(group,
                List.of(new LeavingMember(member.memberId(), null)), now).error());
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, coordinator.describeGroup(group).error());
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, coordinator.deleteOffsets(group, List.of(EVENTS)).error());
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, coordinator.coordinatorError(group));
        assertEquals(NONE, coordinator.coordinatorError(groupOnAnotherPartition(partition)));

        coordinator.partitionLoaded(partition);
        assertEquals(NONE, coordinator.heartbeat(group, member.memberId(), null, member.generationId(), now));
    }

    @Test
    void aGroupOfAnOffsetsPartitionLedElsewhereAnswersNotCoordinator() {
        String group = "elsewhere";
        int partition = OffsetsTopicCodec.partitionFor(group, PARTITIONS);
        String here = groupOnAnotherPartition(partition);
        coordinator.leadership(PARTITIONS, p -> p != partition);

        assertEquals(NOT_COORDINATOR, join(group, "").get().error());
        assertEquals(NOT_COORDINATOR, sync(group, "m", 1).error());
        assertEquals(NOT_COORDINATOR, coordinator.heartbeat(group, "m", null, 1, now));
        assertEquals(NOT_COORDINATOR, coordinator.commitOffsets(group, "", null, -1,
                Map.of(EVENTS, new CommittedOffset(4, -1, "", now, -1)), now).get(EVENTS));
        assertEquals(NOT_COORDINATOR, coordinator.commitTransactionalOffsets(group, 7, (short) 0, "", null, -1,
                Map.of(EVENTS, new CommittedOffset(4, -1, "", now, -1)), now).get(EVENTS));
        assertEquals(NOT_COORDINATOR, coordinator.describeGroup(group).error());
        assertEquals(Map.of(group, NOT_COORDINATOR), coordinator.deleteGroups(List.of(group)));
        assertFalse(coordinator.hasGroup(group), "nothing was made for it here");
        assertEquals(MEMBER_ID_REQUIRED, join(here, "").get().error(), "a group of a partition led here is served");
    }

    private static String groupOnAnotherPartition(int partition) {
        for (int i = 0; ; i++) {
            String id = "other-" + i;
            if (OffsetsTopicCodec.partitionFor(id, PARTITIONS) != partition) return id;
        }
    }

    private AtomicReference<JoinResult> join(String group, String memberId) {
        AtomicReference<JoinResult> result = new AtomicReference<>();
        coordinator.joinGroup(new JoinRequest(group, memberId, null, "client", "/127.0.0.1", SESSION_MS, 30_000,
                "consumer", List.of(new Protocol("range", "range".getBytes(StandardCharsets.UTF_8))), true), now,
                result::set);
        return result;
    }

    private JoinResult joinAlone(String group) {
        JoinResult first = join(group, "").get();
        assertEquals(MEMBER_ID_REQUIRED, first.error());
        return join(group, first.memberId()).get();
    }

    private SyncResult sync(String group, String memberId, int generation) {
        AtomicReference<SyncResult> result = new AtomicReference<>();
        coordinator.syncGroup(new SyncRequest(group, generation, memberId, null, "consumer", "range",
                Map.of(memberId, new byte[]{1})), now, result::set);
        return result.get();
    }
}
