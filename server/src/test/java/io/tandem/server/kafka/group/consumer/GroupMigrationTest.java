package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.TopicPartition;
import io.tandem.server.kafka.group.CommittedOffset;
import io.tandem.server.kafka.group.GroupMessages;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.SyncResult;
import io.tandem.server.kafka.group.GroupState;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatResult;
import org.apache.kafka.clients.consumer.ConsumerPartitionAssignor;
import org.apache.kafka.clients.consumer.internals.ConsumerProtocol;
import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static io.tandem.server.kafka.ErrorCodes.*;
import static org.junit.jupiter.api.Assertions.*;

/**
 * KIP-848 online migration driven through both coordinators with time passed in, the classic members' subscriptions
 * and assignments written and read with the real client's ConsumerProtocol: upgrade of a live classic group, classic
 * members served inside the consumer group, downgrade when the last consumer-protocol member leaves, and every
 * refusal of group.consumer.migration.policy and the size limits with Kafka's errors.
 */
class GroupMigrationTest extends ConsumerGroupFixture {
    private static final String TOPIC = "events";
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;

    private void start(MigrationPolicy policy, int consumerMaxSize, int classicMaxSize) {
        topic(TOPIC, 4);
        start(classicConfig().withMaxGroupSize(classicMaxSize), new ConsumerGroupConfig(45_000, 5_000,
                consumerMaxSize, ConsumerGroupConfig.KNOWN_ASSIGNORS, policy));
    }

    private void start(MigrationPolicy policy) {
        start(policy, Integer.MAX_VALUE, Integer.MAX_VALUE);
    }

    /** A "range" subscription to the topic as the Java client writes it, owning {@code owned}. */
    private static byte[] subscription(List<Integer> owned) {
        return subscription(List.of(TOPIC), owned);
    }

    private static byte[] subscription(List<String> topics, List<Integer> owned) {
        List<org.apache.kafka.common.TopicPartition> partitions = new ArrayList<>();
        for (int p : owned) partitions.add(new org.apache.kafka.common.TopicPartition(TOPIC, p));
        ByteBuffer buf = ConsumerProtocol.serializeSubscription(new ConsumerPartitionAssignor.Subscription(
                topics, null, partitions, -1, Optional.empty()));
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        return bytes;
    }

    private JoinResult classicJoin(String memberId, List<Integer> owned) {
        return classicJoin(memberId, "consumer", owned);
    }

    private JoinResult classicJoin(String memberId, String protocolType, List<Integer> owned) {
        return classicJoinAsync(memberId, protocolType, owned).get();
    }

    /** A JoinGroup whose answer may come later (a classic rebalance waits for every known member). */
    private AtomicReference<JoinResult> classicJoinAsync(String memberId, String protocolType, List<Integer> owned) {
        AtomicReference<JoinResult> result = new AtomicReference<>();
        classic.joinGroup(new GroupMessages.JoinRequest("g", memberId, null, "client", "/127.0.0.1", SESSION_MS,
                REBALANCE_MS, protocolType, List.of(new GroupMessages.Protocol("range", subscription(owned))), false),
                now, result::set);
        return result;
    }

    private SyncResult sync(String memberId, int generation, Map<String, byte[]> assignments) {
        AtomicReference<SyncResult> result = new AtomicReference<>();
        classic.syncGroup(new GroupMessages.SyncRequest("g", generation, memberId, null, "consumer", "range",
                assignments), now, result::set);
        return result.get();
    }

    private static byte[] assignment(Integer... partitions) {
        List<org.apache.kafka.common.TopicPartition> list = new ArrayList<>();
        for (int p : partitions) list.add(new org.apache.kafka.common.TopicPartition(TOPIC, p));
        ByteBuffer buf = ConsumerProtocol.serializeAssignment(new ConsumerPartitionAssignor.Assignment(list));
        byte[] bytes = new byte[buf.remaining()];
        buf.get(bytes);
        return bytes;
    }

    /** The partitions an assignment written by Tandem gives, read by the real client's ConsumerProtocol. */
    private static Set<Integer> partitions(byte[] assignment) {
        Set<Integer> result = new HashSet<>();
        for (var tp : ConsumerProtocol.deserializeAssignment(ByteBuffer.wrap(assignment)).partitions()) {
            assertEquals(TOPIC, tp.topic());
            result.add(tp.partition());
        }
        return result;
    }

    private HeartbeatResult consumerJoin(String memberId) {
        return coordinator.heartbeat(new HeartbeatRequest("g", memberId, 0, null, null, REBALANCE_MS, List.of(TOPIC),
                null, null, List.of(), "client", "/127.0.0.1", (short) 1), now);
    }

    private HeartbeatResult consumerBeat(String memberId, int epoch, Set<Integer> owned) {
        List<OwnedPartitions> list = owned == null ? null
                : List.of(new OwnedPartitions(topicsByName.get(TOPIC).id(), List.copyOf(owned)));
        return coordinator.heartbeat(new HeartbeatRequest("g", memberId, epoch, null, null, -1, null, null, null,
                list, "client", "/127.0.0.1", (short) 1), now);
    }

    private static Set<Integer> partitionsOf(Assignment assignment) {
        Set<Integer> result = new HashSet<>();
        assignment.partitions().values().forEach(result::addAll);
        return result;
    }

    /** Two classic members, a Stable group: "a" owns 0 and 1, "b" owns 2 and 3, at the returned generation. */
    private int stableClassicGroup() {
        JoinResult first = classicJoin("", List.of());
        assertEquals(NONE, first.error());
        // A second member starts a rebalance that completes once the first rejoins.
        AtomicReference<JoinResult> second = classicJoinAsync("", "consumer", List.of());
        assertNull(second.get());
        JoinResult a = classicJoin(first.memberId(), List.of());
        JoinResult b = second.get();
        assertEquals(NONE, b.error());
        int generation = b.generationId();
        String leader = b.leaderId();
        String other = leader.equals(a.memberId()) ? b.memberId() : a.memberId();
        Map<String, byte[]> assignments = new HashMap<>();
        assignments.put(leader, assignment(0, 1));
        assignments.put(other, assignment(2, 3));
        assertEquals(NONE, sync(leader, generation, assignments).error());
        assertEquals(NONE, sync(other, generation, null).error());
        renamed.put("a", leader);
        renamed.put("b", other);
        return generation;
    }

    private final Map<String, String> renamed = new HashMap<>();

    private String id(String name) {
        return renamed.get(name);
    }

    @Test
    void shouldUpgradeALiveClassicGroupAndServeItsClassicMembersUntilTheyRejoin() {
        start(MigrationPolicy.BIDIRECTIONAL);
        int generation = stableClassicGroup();
        TopicPartition p0 = new TopicPartition(TOPIC, 0);
        assertEquals(NONE, classic.commitOffsets("g", id("a"), null, generation,
                Map.of(p0, new CommittedOffset(42, -1, "", now, -1)), now).get(p0));

        HeartbeatResult n = consumerJoin("n");
        assertEquals(generation + 1, n.memberEpoch(), "the joining member bumps the classic generation");
        assertEquals(Assignment.EMPTY, n.assignment(), "every partition is still owned by a classic member");
        assertTrue(coordinator.isConsumerGroup("g"));
        ConsumerGroupDescription described = coordinator.describe("g");
        assertEquals(3, described.members().size());
        assertEquals(2, described.members().stream().filter(ConsumerGroupDescription.Member::classic).count());
        assertTrue(classic.listGroups().isEmpty(), "the id is listed once, as a consumer group");
        assertEquals(42, classic.fetchOffsets("g", null).get(p0).offset(), "offsets stay with the group id");

        // The classic members learn of the new epoch from their heartbeat, and rejoin (eagerly: owning nothing).
        assertEquals(REBALANCE_IN_PROGRESS, classic.heartbeat("g", id("a"), null, generation, now));
        JoinResult a = classicJoin(id("a"), List.of());
        assertEquals(NONE, a.error());
        assertEquals(generation + 1, a.generationId());
        assertEquals("", a.leaderId(), "the server assigns: no classic leader");
        assertEquals("consumer", a.protocolType());
        assertEquals("range", a.protocolName());
        Set<Integer> aOwns = partitions(sync(id("a"), a.generationId(), null).assignment());
        assertEquals(NONE, classic.heartbeat("g", id("a"), null, a.generationId(), now));

        assertEquals(REBALANCE_IN_PROGRESS, classic.heartbeat("g", id("b"), null, generation, now));
        JoinResult b = classicJoin(id("b"), List.of());
        Set<Integer> bOwns = partitions(sync(id("b"), b.generationId(), null).assignment());
        // Once both gave up what is no longer theirs, the consumer-protocol member gets its share.
        Set<Integer> nOwns = partitionsOf(consumerBeat("n", n.memberEpoch(), Set.of()).assignment());
        assertFalse(nOwns.isEmpty());
        Set<Integer> all = new HashSet<>();
        for (Set<Integer> owned : List.of(aOwns, bOwns, nOwns)) {
            for (int p : owned) assertTrue(all.add(p), "partition " + p + " owned twice");
        }
        assertEquals(Set.of(0, 1, 2, 3), all);

        // A classic member commits with its generation (its epoch); an older generation is ILLEGAL_GENERATION.
        assertEquals(NONE, classic.commitOffsets("g", id("a"), null, a.generationId(),
                Map.of(p0, new CommittedOffset(43, -1, "", now, -1)), now, (short) 8).get(p0));
        assertEquals(ILLEGAL_GENERATION, classic.commitOffsets("g", id("a"), null, generation,
                Map.of(p0, new CommittedOffset(44, -1, "", now, -1)), now, (short) 8).get(p0));
        assertEquals(43, classic.fetchOffsets("g", null).get(p0).offset());
    }

    @Test
    void shouldDowngradeToAClassicGroupWhenTheLastConsumerProtocolMemberLeaves() {
        start(MigrationPolicy.BIDIRECTIONAL);
        int generation = stableClassicGroup();
        HeartbeatResult n = consumerJoin("n");
        coordinator.heartbeat(new HeartbeatRequest("g", "n", -1, null, null, -1, null, null, null, null, "client",
                "/127.0.0.1", (short) 1), now);
        assertFalse(coordinator.isConsumerGroup("g"), "back to a classic group");
        GroupMessages.GroupListing listing = classic.listGroups().get(0);
        assertEquals(GroupState.PREPARING_REBALANCE, listing.state(), "the classic group rebalances at once");
        assertEquals("consumer", listing.protocolType());
        assertTrue(n.memberEpoch() > generation);

        // The classic members rejoin the classic group and get a leader-made assignment again.
        short beat = classic.heartbeat("g", id("a"), null, generation, now);
        assertTrue(beat == REBALANCE_IN_PROGRESS || beat == ILLEGAL_GENERATION, "told to rejoin: " + beat);
        AtomicReference<JoinResult> a = classicJoinAsync(id("a"), "consumer", List.of());
        JoinResult b = classicJoin(id("b"), List.of());
        assertEquals(NONE, b.error());
        assertEquals(NONE, a.get().error());
        assertFalse(a.get().leaderId().isEmpty(), "a classic group has a leader again");
        assertEquals(2, (a.get().members().isEmpty() ? b : a.get()).members().size());
    }

    @Test
    void shouldRefuseAnUpgradeWhenThePolicyIsDisabledOrDowngradeOnly() {
        for (MigrationPolicy policy : List.of(MigrationPolicy.DISABLED, MigrationPolicy.DOWNGRADE)) {
            start(policy);
            stableClassicGroup();
            ApiException e = assertThrows(ApiException.class, () -> consumerJoin("n"), policy.toString());
            assertEquals(GROUP_ID_NOT_FOUND, e.error());
            assertEquals("Cannot upgrade classic group g to consumer group because online upgrade is disabled.",
                    e.getMessage());
            assertFalse(coordinator.isConsumerGroup("g"));
            assertEquals(GroupState.STABLE, classic.listGroups().get(0).state(), "the classic group is untouched");
        }
    }

    @Test
    void shouldKeepAConsumerGroupOfClassicMembersWhenThePolicyIsUpgradeOnly() {
        start(MigrationPolicy.UPGRADE);
        int generation = stableClassicGroup();
        HeartbeatResult n = consumerJoin("n");
        coordinator.heartbeat(new HeartbeatRequest("g", "n", -1, null, null, -1, null, null, null, null, "client",
                "/127.0.0.1", (short) 1), now);
        assertTrue(coordinator.isConsumerGroup("g"), "no downgrade under the upgrade policy");
        assertEquals(2, coordinator.describe("g").members().size());
        assertTrue(n.memberEpoch() > generation);
        // The classic members are still served, inside the consumer group.
        assertEquals(REBALANCE_IN_PROGRESS, classic.heartbeat("g", id("a"), null, generation, now));
        assertEquals(NONE, classicJoin(id("a"), List.of()).error());
    }

    @Test
    void shouldRefuseToUpgradeAGroupThatDoesNotEmbedTheConsumerProtocol() {
        start(MigrationPolicy.BIDIRECTIONAL);
        assertEquals(NONE, classicJoin("", "connect", List.of()).error());
        ApiException e = assertThrows(ApiException.class, () -> consumerJoin("n"));
        assertEquals(GROUP_ID_NOT_FOUND, e.error());
        assertEquals("Cannot upgrade classic group g to consumer group because the group does not use the consumer "
                + "embedded protocol.", e.getMessage());
    }

    @Test
    void shouldRefuseToUpgradeAGroupLargerThanTheConsumerGroupMaximumSize() {
        start(MigrationPolicy.BIDIRECTIONAL, 1, Integer.MAX_VALUE);
        stableClassicGroup();
        ApiException e = assertThrows(ApiException.class, () -> consumerJoin("n"));
        assertEquals(GROUP_ID_NOT_FOUND, e.error());
        assertEquals("Cannot upgrade classic group g to consumer group because the group size exceeds the consumer "
                + "group maximum size.", e.getMessage());
    }

    @Test
    void shouldRefuseAClassicMemberWhenTheConsumerGroupIsFull() {
        start(MigrationPolicy.BIDIRECTIONAL, 3, Integer.MAX_VALUE);
        stableClassicGroup();
        consumerJoin("n");
        assertEquals(GROUP_MAX_SIZE_REACHED, classicJoin("", List.of()).error());
        ApiException e = assertThrows(ApiException.class, () -> consumerJoin("m"));
        assertEquals(GROUP_MAX_SIZE_REACHED, e.error());
    }

    @Test
    void shouldNotDowngradeWhenTheClassicMembersExceedTheClassicGroupMaximumSize() {
        start(MigrationPolicy.BIDIRECTIONAL, Integer.MAX_VALUE, 2);
        stableClassicGroup();
        consumerJoin("n");
        assertEquals(NONE, classicJoin("", List.of()).error(), "a third classic member joins the consumer group");
        coordinator.heartbeat(new HeartbeatRequest("g", "n", -1, null, null, -1, null, null, null, null, "client",
                "/127.0.0.1", (short) 1), now);
        assertTrue(coordinator.isConsumerGroup("g"), "three classic members do not fit group.max.size=2");
    }

    @Test
    void shouldRefuseAClassicMemberOfAnotherProtocolTypeIntoAConsumerGroup() {
        start(MigrationPolicy.BIDIRECTIONAL);
        topic(TOPIC, 4);
        consumerJoin("n");
        assertEquals(INCONSISTENT_GROUP_PROTOCOL, classicJoin("", "connect", List.of()).error());
    }

    @Test
    void shouldFenceAClassicMemberThatDoesNotRejoinWithinItsRebalanceTimeout() {
        start(MigrationPolicy.UPGRADE);
        int generation = stableClassicGroup();
        consumerJoin("n");
        assertEquals(REBALANCE_IN_PROGRESS, classic.heartbeat("g", id("a"), null, generation, now));
        // "a" keeps heartbeating (its session stays alive) but never rejoins.
        for (int i = 0; i < REBALANCE_MS / 5_000 + 1; i++) {
            now += 5_000;
            classic.heartbeat("g", id("a"), null, generation, now);
            classic.heartbeat("g", id("b"), null, generation, now);
            classic.tick(now);
        }
        assertEquals(UNKNOWN_MEMBER_ID, classic.heartbeat("g", id("a"), null, generation, now));
        assertEquals(1, coordinator.describe("g").members().size(), "both classic members were fenced");
    }

    /**
     * An empty group goes to whichever protocol its next member speaks, under every policy (Kafka's
     * maybeDeleteEmptyConsumerGroup / maybeDeleteEmptyClassicGroup are not policy checks); a member of the kind the
     * group no longer is gets GROUP_ID_NOT_FOUND with Kafka's message, and a classic member id that the group never
     * knew UNKNOWN_MEMBER_ID.
     */
    @Test
    void shouldHandAnEmptyGroupToTheProtocolOfItsNextMemberUnderEveryPolicy() {
        for (MigrationPolicy policy : MigrationPolicy.values()) {
            start(policy);
            HeartbeatResult n = consumerJoin("n");
            coordinator.heartbeat(new HeartbeatRequest("g", "n", -1, null, null, -1, null, null, null, null,
                    "client", "/127.0.0.1", (short) 1), now);
            assertEquals("Empty", coordinator.describe("g").state(), policy.toString());

            JoinResult c = classicJoin("", List.of());
            assertEquals(NONE, c.error(), policy + ": an empty consumer group is taken by a classic member");
            assertEquals(GROUP_ID_NOT_FOUND, coordinator.describe("g").error());
            assertEquals(UNKNOWN_MEMBER_ID, classicJoin("never-a-member", List.of()).error());

            assertEquals(NONE, classic.leaveGroup("g", List.of(new GroupMessages.LeavingMember(c.memberId(), null)),
                    now).error());
            ApiException stale = assertThrows(ApiException.class, () -> consumerBeat("n", n.memberEpoch(), null));
            assertEquals(GROUP_ID_NOT_FOUND, stale.error());
            assertEquals("Group g is not a consumer group", stale.getMessage(),
                    policy + ": the id names an Empty classic group now");
            assertEquals(2, consumerJoin("m").memberEpoch(), policy + ": the empty classic group is taken back");
        }
    }

    @Test
    void shouldTakeOverAClassicGroupHoldingOnlyAPendingMemberIdUnderEveryPolicy() {
        for (MigrationPolicy policy : MigrationPolicy.values()) {
            start(policy);
            AtomicReference<JoinResult> pending = new AtomicReference<>();
            classic.joinGroup(new GroupMessages.JoinRequest("g", "", null, "client", "/127.0.0.1", SESSION_MS,
                    REBALANCE_MS, "consumer", List.of(new GroupMessages.Protocol("range", subscription(List.of()))),
                    true), now, pending::set);
            assertEquals(MEMBER_ID_REQUIRED, pending.get().error());
            assertEquals(2, consumerJoin("n").memberEpoch(), "an Empty classic group is taken over, as in Kafka");
            // The member id handed out joins the consumer group as a classic member, unless migration is disabled:
            // then Kafka 4.4 serves no classic member in a live consumer group.
            JoinResult joined = classicJoin(pending.get().memberId(), List.of());
            if (policy == MigrationPolicy.DISABLED) {
                assertEquals(INCONSISTENT_GROUP_PROTOCOL, joined.error());
                assertEquals(1, coordinator.describe("g").members().size());
            } else {
                assertEquals(NONE, joined.error(), policy.toString());
                assertEquals(2, coordinator.describe("g").members().size());
            }
            topicsByName.clear();
            now += 1_000;
            classic = null;
        }
    }

    /** A static classic member (instance id {@code instanceId}) joining with a new member id. */
    private JoinResult staticClassicJoin(String instanceId, List<String> topics) {
        AtomicReference<JoinResult> result = new AtomicReference<>();
        classic.joinGroup(new GroupMessages.JoinRequest("g", "", instanceId, "client", "/127.0.0.1", SESSION_MS,
                REBALANCE_MS, "consumer", List.of(new GroupMessages.Protocol("range", subscription(topics, List.of()))),
                true), now, result::set);
        return result.get();
    }

    /**
     * A live classic group upgraded by static consumer-protocol member "n" (instance "i1"), the classic members
     * rejoined so that "n" owns its share: returns what "n" owns.
     */
    private Set<Integer> upgradedByStaticMember() {
        int generation = stableClassicGroup();
        HeartbeatResult n = coordinator.heartbeat(new HeartbeatRequest("g", "n", 0, "i1", null, REBALANCE_MS,
                List.of(TOPIC), null, null, List.of(), "client", "/127.0.0.1", (short) 1), now);
        assertEquals(generation + 1, n.memberEpoch());
        for (String name : List.of("a", "b")) {
            assertEquals(REBALANCE_IN_PROGRESS, classic.heartbeat("g", id(name), null, generation, now));
            JoinResult rejoined = classicJoin(id(name), List.of());
            assertEquals(NONE, sync(id(name), rejoined.generationId(), null).error());
        }
        Set<Integer> owned = partitionsOf(consumerBeat("n", n.memberEpoch(), Set.of()).assignment());
        assertFalse(owned.isEmpty(), "n owns its share before it is replaced");
        return owned;
    }

    @Test
    void shouldDowngradeWithoutARebalanceWhenAClassicStaticMemberReplacesTheLastConsumerProtocolMember() {
        start(MigrationPolicy.BIDIRECTIONAL);
        Set<Integer> nOwned = upgradedByStaticMember();
        int epoch = coordinator.describe("g").groupEpoch();
        // "n" is gone without a word (a restart); its instance comes back on the classic protocol.
        JoinResult joined = staticClassicJoin("i1", List.of(TOPIC));
        assertEquals(NONE, joined.error());
        assertNotEquals("n", joined.memberId());
        assertEquals(epoch, joined.generationId(), "the same subscription: no new epoch");
        assertFalse(coordinator.isConsumerGroup("g"), "the last consumer-protocol member was replaced: classic again");
        GroupMessages.GroupListing listing = classic.listGroups().get(0);
        assertEquals(GroupState.STABLE, listing.state(), "same subscription as the replaced member: no rebalance");
        assertEquals("consumer", listing.protocolType());
        SyncResult synced = sync(joined.memberId(), joined.generationId(), null);
        assertEquals(NONE, synced.error());
        assertEquals(nOwned, partitions(synced.assignment()), "the newcomer gets the replaced member's partitions");
        assertEquals(NONE, classic.heartbeat("g", joined.memberId(), "i1", joined.generationId(), now));
        assertEquals(NONE, classic.heartbeat("g", id("a"), null, joined.generationId(), now),
                "the other classic members go on undisturbed");
        ApiException gone = assertThrows(ApiException.class, () -> consumerBeat("n", joined.generationId(), nOwned));
        assertEquals(GROUP_ID_NOT_FOUND, gone.error(), "the replaced member's group is no consumer group any more");
    }

    @Test
    void shouldDowngradeAndRebalanceWhenTheReplacingClassicStaticMemberChangesTheSubscription() {
        start(MigrationPolicy.BIDIRECTIONAL);
        topic("other", 2);
        upgradedByStaticMember();
        JoinResult joined = staticClassicJoin("i1", List.of(TOPIC, "other"));
        assertEquals(NONE, joined.error());
        assertFalse(coordinator.isConsumerGroup("g"));
        assertEquals(GroupState.PREPARING_REBALANCE, classic.listGroups().get(0).state(),
                "a new subscription needs a new classic assignment");
        assertEquals(REBALANCE_IN_PROGRESS, sync(joined.memberId(), joined.generationId(), null).error());
    }

    @Test
    void shouldKeepTheConsumerGroupWhenAClassicStaticMemberReplacesTheLastConsumerMemberUnderAnUpgradeOnlyPolicy() {
        start(MigrationPolicy.UPGRADE);
        Set<Integer> nOwned = upgradedByStaticMember();
        JoinResult joined = staticClassicJoin("i1", List.of(TOPIC));
        assertEquals(NONE, joined.error(), "the classic newcomer replaces the static member all the same");
        assertTrue(coordinator.isConsumerGroup("g"), "no downgrade under the upgrade policy");
        ConsumerGroupDescription described = coordinator.describe("g");
        assertEquals(3, described.members().size());
        assertTrue(described.members().stream().allMatch(ConsumerGroupDescription.Member::classic));
        SyncResult synced = sync(joined.memberId(), joined.generationId(), null);
        assertEquals(NONE, synced.error());
        assertEquals(nOwned, partitions(synced.assignment()));
    }

    @Test
    void shouldKeepTheConsumerGroupWhenAnotherConsumerProtocolMemberRemains() {
        start(MigrationPolicy.BIDIRECTIONAL);
        upgradedByStaticMember();
        consumerJoin("m");
        assertEquals(NONE, staticClassicJoin("i1", List.of(TOPIC)).error());
        assertTrue(coordinator.isConsumerGroup("g"), "\"m\" still speaks the consumer protocol");
    }

    @Test
    void shouldKeepTheConsumerGroupWhenTheReplacedGroupExceedsTheClassicGroupMaximumSize() {
        start(MigrationPolicy.BIDIRECTIONAL, Integer.MAX_VALUE, 2);
        upgradedByStaticMember();
        assertEquals(NONE, staticClassicJoin("i1", List.of(TOPIC)).error());
        assertTrue(coordinator.isConsumerGroup("g"), "three members do not fit group.max.size=2");
    }
}
