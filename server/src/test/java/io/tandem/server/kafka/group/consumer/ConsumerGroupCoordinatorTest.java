package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.CommittedOffset;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatResult;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/** The KIP-848 state machine driven directly, with time passed in: epochs, reconciliation, fencing, coexistence. */
class ConsumerGroupCoordinatorTest extends ConsumerGroupFixture {
    private static final int REBALANCE_MS = 30_000;

    ConsumerGroupCoordinatorTest() {
        start(new ConsumerGroupConfig(45_000, 5_000, 3, ConsumerGroupConfig.KNOWN_ASSIGNORS));
    }

    private HeartbeatResult join(String memberId, String instanceId, String assignor, List<String> names, String regex) {
        return coordinator.heartbeat(new HeartbeatRequest("g", memberId, 0, instanceId, null, REBALANCE_MS, names,
                regex, assignor, List.of(), "client", "/127.0.0.1", (short) 1), now);
    }

    private HeartbeatResult join(String memberId, String... topicNames) {
        return join(memberId, null, null, List.of(topicNames), null);
    }

    /** A heartbeat reporting exactly {@code owned} (null: not reported), with nothing else changed. */
    private HeartbeatResult beat(String memberId, int epoch, Assignment owned) {
        List<OwnedPartitions> list = null;
        if (owned != null) {
            list = new ArrayList<>();
            for (var e : owned.partitions().entrySet()) list.add(new OwnedPartitions(e.getKey(), List.copyOf(e.getValue())));
        }
        return coordinator.heartbeat(new HeartbeatRequest("g", memberId, epoch, null, null, -1, null, null, null,
                list, "client", "/127.0.0.1", (short) 1), now);
    }

    private static short errorOf(Executable call) {
        return assertThrows(ApiException.class, call).error();
    }

    private static Assignment of(TopicRef topic, Integer... partitions) {
        return new Assignment.Builder().addAll(topic.id(), Set.of(partitions)).build();
    }

    @Test
    void shouldAnswerTheCoordinatorErrorOfTheGroupsOffsetsPartitionAsKafkaDoes() {
        topic("t", 2);
        int partition = io.tandem.server.kafka.group.OffsetsTopicCodec.partitionFor("g", 50);
        HeartbeatResult joined = join("m1", "t");
        classic.leadership(50, p -> true);
        classic.partitionLoading(partition);
        assertEquals(COORDINATOR_LOAD_IN_PROGRESS, errorOf(() -> beat(joined.memberId(), joined.memberEpoch(), null)));
        classic.partitionLoaded(partition);
        assertEquals(joined.memberEpoch(), beat(joined.memberId(), joined.memberEpoch(), null).memberEpoch());

        classic.leadership(50, p -> p != partition);
        assertEquals(NOT_COORDINATOR, errorOf(() -> beat(joined.memberId(), joined.memberEpoch(), null)));
        assertEquals(NOT_COORDINATOR, errorOf(() -> join("m2", "t")));
    }

    @Test
    void shouldRunEachGroupWithTheSessionTimeoutAndHeartbeatIntervalOfItsGroupConfigs() {
        topic("events", 1);
        // The broker's are 45 s and 5 s; group g has its own (ConfigResource GROUP), read at every heartbeat.
        Map<String, GroupTimeouts> overrides = new java.util.HashMap<>(Map.of("g", new GroupTimeouts(10_000, 2_000)));
        coordinator.groupTimeouts(groupId -> overrides.getOrDefault(groupId, new GroupTimeouts(45_000, 5_000)));
        HeartbeatResult a = join("a", "events");
        assertEquals(2_000, a.heartbeatIntervalMs(), "the answer carries the group's heartbeat interval");

        now += 9_999;
        coordinator.tick(now);
        assertNotNull(coordinator.readState("g", "a"));
        now += 1;
        coordinator.tick(now);
        assertNull(coordinator.readState("g", "a"), "fenced after the group's session timeout, not the broker's");

        HeartbeatResult b = join("b", "events");
        overrides.put("g", new GroupTimeouts(20_000, 7_000));
        assertEquals(7_000, beat(b.memberId(), b.memberEpoch(), null).heartbeatIntervalMs(),
                "an altered config applies from the next heartbeat");
        now += 19_999;
        coordinator.tick(now);
        assertNotNull(coordinator.readState("g", "b"));
    }

    @Test
    void shouldStartANewGroupAtEpochOneSoItsFirstMemberGetsEpochTwoAsKafka44Does() {
        topic("events", 1);
        assertEquals(2, join("a", "events").memberEpoch());
        assertEquals(2, coordinator.describe("g").groupEpoch());
    }

    @Test
    void shouldRevokePartitionsFromTheOldOwnerBeforeTheNewOwnerGetsThem() {
        TopicRef t = topic("events", 4);
        HeartbeatResult a = join("a", "events");
        assertEquals(2, a.memberEpoch());
        assertEquals(of(t, 0, 1, 2, 3), a.assignment());

        HeartbeatResult b = join("b", "events");
        // b moves to epoch 2 but gets nothing yet: a still owns every partition.
        assertEquals(3, b.memberEpoch());
        assertEquals(Assignment.EMPTY, b.assignment());
        assertEquals(MemberState.UNRELEASED_PARTITIONS, coordinator.readState("g", "b"));

        // a is told to keep two partitions and stays at epoch 1 until it reports the others gone.
        HeartbeatResult a2 = beat("a", 2, null);
        assertEquals(2, a2.memberEpoch());
        Assignment kept = a2.assignment();
        assertEquals(2, kept.size());
        assertEquals(MemberState.UNREVOKED_PARTITIONS, coordinator.readState("g", "a"));
        // Until then b still gets nothing.
        assertNull(beat("b", 3, null).assignment());

        HeartbeatResult a3 = beat("a", 2, kept);
        assertEquals(3, a3.memberEpoch());
        assertEquals(MemberState.STABLE, coordinator.readState("g", "a"));
        HeartbeatResult b2 = beat("b", 3, Assignment.EMPTY);
        assertEquals(2, b2.assignment().size());
        Set<Integer> union = new java.util.HashSet<>(kept.get(t.id()));
        union.addAll(b2.assignment().get(t.id()));
        assertEquals(Set.of(0, 1, 2, 3), union);
        assertEquals("Stable", coordinator.describe("g").state());
    }

    @Test
    void shouldFenceAMemberWhoseEpochIsAheadOrTooFarBehind() {
        topic("events", 2);
        join("a", "events");
        assertEquals(FENCED_MEMBER_EPOCH, errorOf(() -> beat("a", 5, null)));
        join("b", "events");
        HeartbeatResult a = beat("a", 2, null);
        beat("a", a.memberEpoch(), a.assignment());
        assertEquals(3, coordinator.describe("g").members().get(0).memberEpoch());
        // Epoch 0 is neither the current (2) nor the previous (1) epoch: fenced.
        assertEquals(FENCED_MEMBER_EPOCH, errorOf(() -> join("a", "events")));
    }

    @Test
    void shouldAcceptThePreviousEpochWhenTheAnswerThatBumpedItWasLost() {
        TopicRef t = topic("events", 2);
        join("a", "events");
        // The member never saw epoch 1 and repeats its join at epoch 0 owning nothing: accepted.
        HeartbeatResult again = join("a", "events");
        assertEquals(2, again.memberEpoch());
        assertEquals(of(t, 0, 1), again.assignment());
    }

    @Test
    void shouldRefuseAnUnknownMemberAndAnUnknownGroup() {
        topic("events", 1);
        assertEquals(GROUP_ID_NOT_FOUND, errorOf(() -> beat("ghost", 4, null)));
        join("a", "events");
        ApiException e = assertThrows(ApiException.class, () -> beat("ghost", 4, null));
        assertEquals(UNKNOWN_MEMBER_ID, e.error());
        assertEquals("Member ghost is not a member of group g.", e.getMessage());
    }

    @Test
    void shouldFenceAMemberThatKeepsPartitionsPastItsRebalanceTimeout() {
        topic("events", 2);
        join("a", "events");
        join("b", "events");
        beat("a", 2, null);
        assertEquals(MemberState.UNREVOKED_PARTITIONS, coordinator.readState("g", "a"));
        now += REBALANCE_MS + 1;
        beat("b", 3, Assignment.EMPTY);
        coordinator.tick(now);
        assertEquals(UNKNOWN_MEMBER_ID, errorOf(() -> beat("a", 2, null)));
        // With a gone, b gets everything at the next epoch.
        HeartbeatResult b = beat("b", 3, Assignment.EMPTY);
        assertEquals(4, b.memberEpoch());
        assertEquals(2, b.assignment().size());
    }

    @Test
    void shouldRemoveAMemberWhoseSessionExpired() {
        topic("events", 2);
        join("a", "events");
        now += 45_001;
        coordinator.tick(now);
        assertEquals(UNKNOWN_MEMBER_ID, errorOf(() -> beat("a", 2, null)));
        assertEquals("Empty", coordinator.describe("g").state());
    }

    @Test
    void shouldLetAStaticMemberLeaveForNowAndRejoinWithItsPartitions() {
        TopicRef t = topic("events", 4);
        join("a1", "instance-a", null, List.of("events"), null);
        join("b1", "instance-b", null, List.of("events"), null);
        Assignment aOwns = beat("a1", 2, null).assignment();
        beat("a1", 2, aOwns);
        Assignment bOwns = beat("b1", 3, Assignment.EMPTY).assignment();
        assertEquals(2, bOwns.size());
        beat("b1", 3, bOwns);

        HeartbeatResult left = coordinator.heartbeat(new HeartbeatRequest("g", "b1", -2, "instance-b", null, -1, null,
                null, null, null, "client", "/127.0.0.1", (short) 1), now);
        assertEquals(-2, left.memberEpoch());
        // Nobody takes the partitions of a static member that will be back.
        assertEquals(3, beat("a1", 3, null).memberEpoch());
        assertEquals(UNRELEASED_INSTANCE_ID, errorOf(() -> join("a2", "instance-a", null, List.of("events"), null)));

        HeartbeatResult back = join("b2", "instance-b", null, List.of("events"), null);
        assertEquals(bOwns, back.assignment());
        assertEquals(3, back.memberEpoch(), "no rebalance: the group epoch did not move");
        assertEquals(FENCED_INSTANCE_ID, errorOf(() -> coordinator.heartbeat(new HeartbeatRequest("g", "b1", 3,
                "instance-b", null, -1, null, null, null, null, "c", "h", (short) 1), now)));
        assertEquals(t.partitionCount(), aOwns.size() + back.assignment().size());
        // As Kafka: an instance id still in use is refused even under the same member id.
        assertEquals(UNRELEASED_INSTANCE_ID, errorOf(() -> join("b2", "instance-b", null, List.of("events"), null)));
        coordinator.heartbeat(new HeartbeatRequest("g", "b2", -2, "instance-b", null, -1, null, null, null, null,
                "c", "h", (short) 1), now);
        assertEquals(bOwns, join("b2", "instance-b", null, List.of("events"), null).assignment(),
                "after leaving for now, the same member id comes back to its partitions");
    }

    @Test
    void shouldResolveARegexSubscriptionAndFollowNewMatchingTopics() {
        TopicRef orders = topic("orders-eu", 2);
        topic("payments", 2);
        HeartbeatResult a = join("a", null, null, null, "orders-.*");
        assertEquals(of(orders, 0, 1), a.assignment());
        TopicRef us = topic("orders-us", 1);
        HeartbeatResult next = beat("a", 2, a.assignment());
        assertEquals(3, next.memberEpoch(), "a new matching topic bumps the group epoch");
        assertEquals(3, next.assignment().size());
        assertTrue(next.assignment().contains(us.id(), 0));
        // RE2J has no look-behind: refused as Kafka refuses it.
        assertEquals(INVALID_REGULAR_EXPRESSION, errorOf(() -> join("b", null, null, null, "(?<=x)y")));
    }

    @Test
    void shouldAssignContiguousRangesWithTheRangeAssignor() {
        TopicRef t = topic("events", 5);
        join("a", null, "range", List.of("events"), null);
        HeartbeatResult b = join("b", null, "range", List.of("events"), null);
        beat("a", 2, beat("a", 2, null).assignment());
        b = beat("b", 3, Assignment.EMPTY);
        assertEquals(of(t, 3, 4), b.assignment());
        assertEquals("range", coordinator.describe("g").assignorName());
        assertEquals(UNSUPPORTED_ASSIGNOR, errorOf(() -> join("c", null, "sticky", List.of("events"), null)));
    }

    @Test
    void shouldRefuseMalformedJoinsWithKafkasMessages() {
        topic("events", 1);
        ApiException e = assertThrows(ApiException.class, () -> coordinator.heartbeat(new HeartbeatRequest("g", "a",
                0, null, null, -1, List.of("events"), null, null, List.of(), "c", "h", (short) 1), now));
        assertEquals(INVALID_REQUEST, e.error());
        assertEquals("RebalanceTimeoutMs must be provided in first request.", e.getMessage());
        e = assertThrows(ApiException.class, () -> join("a", null, null, null, null));
        assertEquals(INVALID_REQUEST, e.error());
        assertEquals("Either SubscribedTopicNames or SubscribedTopicRegex must be non-null when (re-)joining.",
                e.getMessage());
        assertEquals(INVALID_REQUEST, errorOf(() -> join("", "events")));
        assertEquals(INVALID_REQUEST, errorOf(() -> coordinator.heartbeat(new HeartbeatRequest("g", "a", -3, null,
                null, -1, null, null, null, null, "c", "h", (short) 1), now)));
    }

    /**
     * Kafka 4.4 takes a member that joins subscribed to nothing (an empty list of names, or an empty regex): the Java
     * consumer joins so when its {@code java.util.regex.Pattern} has matched no topic yet, and names them later.
     */
    @Test
    void shouldAcceptAMemberJoiningWithAnEmptySubscriptionAndAssignItOnceItNamesTopics() {
        TopicRef t = topic("events", 2);
        HeartbeatResult joined = join("a", null, null, List.of(), null);
        assertEquals(2, joined.memberEpoch());
        assertEquals(Assignment.EMPTY, joined.assignment());
        assertEquals(1, coordinator.describe("g").members().size());
        HeartbeatResult named = coordinator.heartbeat(new HeartbeatRequest("g", "a", joined.memberEpoch(), null, null,
                -1, List.of("events"), null, null, List.of(), "client", "/127.0.0.1", (short) 1), now);
        assertEquals(3, named.memberEpoch());
        assertEquals(of(t, 0, 1), named.assignment());
        join("b", null, null, null, "");
        assertEquals(2, coordinator.describe("g").members().size(), "an empty regex joins as well");
    }

    @Test
    void shouldRefuseAMemberBeyondTheGroupMaxSize() {
        topic("events", 1);
        join("a", "events");
        join("b", "events");
        join("c", "events");
        assertEquals(GROUP_MAX_SIZE_REACHED, errorOf(() -> join("d", "events")));
    }

    @Test
    void shouldCheckTheMemberEpochOfOffsetCommits() {
        topic("events", 1);
        join("a", "events");
        Map<TopicPartition, CommittedOffset> offsets = Map.of(new TopicPartition("events", 0),
                new CommittedOffset(5, -1, "", -1));
        assertEquals(Map.of(new TopicPartition("events", 0), NONE),
                classic.commitOffsets("g", "a", null, 2, offsets, now, (short) 9));
        assertEquals(STALE_MEMBER_EPOCH, classic.commitOffsets("g", "a", null, 0, offsets, now, (short) 9)
                .get(new TopicPartition("events", 0)));
        assertEquals(UNKNOWN_MEMBER_ID, classic.commitOffsets("g", "x", null, 2, offsets, now, (short) 9)
                .get(new TopicPartition("events", 0)));
        assertEquals(UNSUPPORTED_VERSION, classic.commitOffsets("g", "a", null, 2, offsets, now, (short) 8)
                .get(new TopicPartition("events", 0)));
        assertEquals(5, classic.fetchOffsets("g", null).get(new TopicPartition("events", 0)).offset());
        assertEquals(NONE, coordinator.validateOffsetCommit("g", "", null, -1, true, (short) 3),
                "a transactional commit without group metadata");
        assertEquals(UNKNOWN_MEMBER_ID, coordinator.validateOffsetCommit("g", "", null, -1, false, (short) 9));
        assertEquals(NONE, coordinator.validateOffsetFetch("g", "a", 2));
        assertEquals(NONE, coordinator.validateOffsetFetch("g", null, -1), "an admin fetch needs no member");
        assertEquals(STALE_MEMBER_EPOCH, coordinator.validateOffsetFetch("g", "a", 0));
        assertEquals(UNKNOWN_MEMBER_ID, coordinator.validateOffsetFetch("g", "x", 2));
    }

    @Test
    void shouldKeepClassicAndConsumerGroupsApartAsKafkaDoes() {
        topic("events", 1);
        // A classic group with a member whose embedded subscription cannot be read: a consumer-protocol member
        // cannot upgrade it (online migration: GroupMigrationTest), and the group stays classic.
        AtomicReference<GroupMessages.JoinResult> joined = new AtomicReference<>();
        classic.joinGroup(new GroupMessages.JoinRequest("g", "", null, "c", "h", 10_000, 10_000, "consumer",
                List.of(new GroupMessages.Protocol("range", new byte[0])), false), now, joined::set);
        assertEquals(NONE, joined.get().error());
        ApiException e = assertThrows(ApiException.class, () -> join("a", "events"));
        assertEquals(GROUP_ID_NOT_FOUND, e.error());
        assertEquals("Cannot upgrade classic group g to consumer group because the embedded consumer protocol is "
                + "malformed.", e.getMessage());
        assertEquals("Group g is not a consumer group.", coordinator.describe("g").errorMessage());

        // Once the classic group is empty, the id may switch to the consumer protocol...
        classic.leaveGroup("g", List.of(new GroupMessages.LeavingMember(joined.get().memberId(), null)), now);
        assertEquals(2, join("a", "events").memberEpoch());
        // ...and while it has members, a classic member whose subscription cannot be read is refused.
        AtomicReference<GroupMessages.JoinResult> refused = new AtomicReference<>();
        classic.joinGroup(new GroupMessages.JoinRequest("g", "", null, "c", "h", 10_000, 10_000, "consumer",
                List.of(new GroupMessages.Protocol("range", new byte[0])), false), now, refused::set);
        assertEquals(INCONSISTENT_GROUP_PROTOCOL, refused.get().error());
        assertTrue(classic.listGroups().isEmpty(), "the id is listed once, as a consumer group");

        // Empty again, the classic protocol may take it back.
        coordinator.heartbeat(new HeartbeatRequest("g", "a", -1, null, null, -1, null, null, null, null, "c", "h",
                (short) 1), now);
        AtomicReference<GroupMessages.JoinResult> back = new AtomicReference<>();
        classic.joinGroup(new GroupMessages.JoinRequest("g", "", null, "c", "h", 10_000, 10_000, "consumer",
                List.of(new GroupMessages.Protocol("range", new byte[0])), false), now, back::set);
        assertEquals(NONE, back.get().error());
        assertFalse(coordinator.isConsumerGroup("g"));
    }

    @Test
    void shouldDeleteOnlyAnEmptyConsumerGroup() {
        topic("events", 1);
        join("a", "events");
        assertEquals(Map.of("g", NON_EMPTY_GROUP), classic.deleteGroups(List.of("g")));
        coordinator.heartbeat(new HeartbeatRequest("g", "a", -1, null, null, -1, null, null, null, null, "c", "h",
                (short) 1), now);
        assertEquals(Map.of("g", NONE), classic.deleteGroups(List.of("g")));
        assertFalse(coordinator.isConsumerGroup("g"));
    }

    @Test
    void shouldKeepSubscribedOffsetsOfAnActiveGroupAndDropAnEmptyGroupWithoutOffsets() {
        topic("events", 1);
        topic("old", 1);
        join("a", "events");
        Map<TopicPartition, CommittedOffset> offsets = Map.of(new TopicPartition("events", 0),
                new CommittedOffset(5, -1, "", -1), new TopicPartition("old", 0), new CommittedOffset(7, -1, "", -1));
        classic.commitOffsets("g", "a", null, 2, offsets, now, (short) 9);
        classic.expireOffsets(now + 10_000, 1_000);
        Map<TopicPartition, CommittedOffset> kept = classic.fetchOffsets("g", null);
        assertEquals(Set.of(new TopicPartition("events", 0)), kept.keySet(), "only the unsubscribed topic's expired");
        assertTrue(coordinator.isConsumerGroup("g"));

        coordinator.heartbeat(new HeartbeatRequest("h", "b", 0, null, null, REBALANCE_MS, List.of("events"), null,
                null, List.of(), "c", "h", (short) 1), now);
        coordinator.heartbeat(new HeartbeatRequest("h", "b", -1, null, null, -1, null, null, null, null, "c", "h",
                (short) 1), now);
        classic.expireOffsets(now, 1_000);
        assertFalse(coordinator.isConsumerGroup("h"), "an empty group with no offsets is removed");
    }
}
