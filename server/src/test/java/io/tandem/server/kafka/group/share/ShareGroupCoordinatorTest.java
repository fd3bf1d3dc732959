package io.tandem.server.kafka.group.share;

import io.tandem.server.kafka.ApiException;
import io.tandem.server.kafka.ErrorCodes;
import io.tandem.server.kafka.group.consumer.TopicRef;
import io.tandem.server.kafka.group.consumer.TopicsView;
import org.junit.jupiter.api.Test;

import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedSet;
import java.util.TreeSet;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.*;

/** The share group coordinator with time passed in: assignment, epochs, session timeouts, leaving, the group's kind. */
class ShareGroupCoordinatorTest {
    private static final UUID TOPIC = new UUID(1, 1);
    private final Map<String, TopicRef> topics = new HashMap<>(Map.of("t", new TopicRef("t", TOPIC, 4)));
    private final Set<String> otherKind = new java.util.HashSet<>();
    private final ShareGroupCoordinator coordinator = new ShareGroupCoordinator(ShareGroupConfig.defaults(),
            new TopicsView() {
                @Override public TopicRef byName(String name) { return topics.get(name); }
                @Override public TopicRef byId(UUID id) {
                    return topics.values().stream().filter(t -> t.id().equals(id)).findFirst().orElse(null);
                }
                @Override public Collection<String> names() { return topics.keySet(); }
            }, otherKind::contains);

    private ShareGroupCoordinator.HeartbeatResult heartbeat(String member, int epoch, List<String> subscription,
                                                            long now) {
        return coordinator.heartbeat(new ShareGroupCoordinator.HeartbeatRequest("g", member, epoch, null,
                subscription, "client", "/127.0.0.1"), now);
    }

    private static SortedSet<Integer> partitions(ShareGroupCoordinator.HeartbeatResult r) {
        return r.assignment() == null ? null : r.assignment().getOrDefault(TOPIC, new TreeSet<>());
    }

    @Test
    void shouldSplitPartitionsThenShareThemWhenMembersOutnumberThem() {
        // As Kafka 4.4: the join assigns only share-partitions whose state is initialized (none yet), initializes
        // them, and the next heartbeat finds them unassigned (initializedAssignmentPending): a new epoch assigns them.
        ShareGroupCoordinator.HeartbeatResult a = heartbeat("a", 0, List.of("t"), 0);
        assertEquals(2, a.memberEpoch());
        assertEquals(Set.of(), partitions(a));
        a = heartbeat("a", 2, null, 1);
        assertEquals(3, a.memberEpoch());
        assertEquals(Set.of(0, 1, 2, 3), partitions(a));
        ShareGroupCoordinator.HeartbeatResult b = heartbeat("b", 0, List.of("t"), 2);
        assertEquals(4, b.memberEpoch());
        assertEquals(Set.of(1, 3), partitions(b));
        // a is told its new assignment at its next heartbeat, with the new epoch.
        ShareGroupCoordinator.HeartbeatResult a2 = heartbeat("a", 3, null, 3);
        assertEquals(4, a2.memberEpoch());
        assertEquals(Set.of(0, 2), partitions(a2));
        // More members than partitions: every member gets one, shared.
        for (String m : List.of("c", "d", "e")) heartbeat(m, 0, List.of("t"), 4);
        Set<Integer> seen = new TreeSet<>();
        for (ShareGroupCoordinator.MemberDescription m : coordinator.describe("g", 5).members()) {
            assertEquals(1, m.assignment().get(TOPIC).size(), m.memberId());
            seen.addAll(m.assignment().get(TOPIC));
        }
        assertEquals(Set.of(0, 1, 2, 3), seen);
    }

    @Test
    void shouldAssignANewTopicsPartitionsAtTheNextHeartbeat() {
        heartbeat("a", 0, List.of("t", "later"), 0);
        assertEquals(3, heartbeat("a", 2, null, 1).memberEpoch(), "t's initialized partitions assigned");
        topics.put("later", new TopicRef("later", new UUID(2, 2), 1));
        // The topic's appearance is a new epoch (its partition initialized meanwhile), and the one after assigns it.
        ShareGroupCoordinator.HeartbeatResult r = heartbeat("a", 3, null, 2);
        assertEquals(4, r.memberEpoch());
        assertNull(r.assignment(), "nothing new to assign yet");
        r = heartbeat("a", 4, null, 3);
        assertEquals(5, r.memberEpoch());
        assertEquals(Set.of(0), r.assignment().get(new UUID(2, 2)));
    }

    @Test
    void shouldRemoveAMemberAfterItsSessionTimeoutAndReleaseItsRecords() {
        heartbeat("a", 0, List.of("t"), 0);
        heartbeat("b", 0, List.of("t"), 0);
        SharePartition sp = coordinator.partition("g", TOPIC, 0, () -> 0L);
        sp.acquire("a", 10, List.of(new SharePartition.Batch(0, 4, false)), 0);
        heartbeat("b", 3, null, 40_000);
        coordinator.tick(45_000);
        assertEquals(List.of("b"), coordinator.describe("g", 45_000).members().stream()
                .map(ShareGroupCoordinator.MemberDescription::memberId).toList());
        assertEquals(List.of(new SharePartition.Acquired(0, 4, 2)), sp.acquire("b", 10, List.of(), 45_001),
                "a's records went back at once, not after their lock");
        ApiException gone = assertThrows(ApiException.class, () -> heartbeat("a", 3, null, 45_002));
        assertEquals(ErrorCodes.UNKNOWN_MEMBER_ID, gone.error());
    }

    @Test
    void shouldAcceptThePreviousEpochAndFenceOthers() {
        heartbeat("a", 0, List.of("t"), 0);
        heartbeat("b", 0, List.of("t"), 0);
        heartbeat("a", 2, null, 1); // a moves from 2 to 3; its answer may be lost
        assertEquals(3, heartbeat("a", 2, null, 2).memberEpoch(), "the previous epoch is accepted");
        ApiException fenced = assertThrows(ApiException.class, () -> heartbeat("a", 1, null, 3));
        assertEquals(ErrorCodes.FENCED_MEMBER_EPOCH, fenced.error());
    }

    @Test
    void shouldRefuseAnotherKindsGroupIdAndDeleteOnlyEmptyGroups() {
        otherKind.add("classic");
        ApiException refused = assertThrows(ApiException.class, () -> coordinator.heartbeat(
                new ShareGroupCoordinator.HeartbeatRequest("classic", "a", 0, null, List.of("t"), "c", "/h"), 0));
        assertEquals(ErrorCodes.GROUP_ID_NOT_FOUND, refused.error());
        assertEquals("Group classic is not a share group.", refused.getMessage());
        heartbeat("a", 0, List.of("t"), 0);
        assertEquals(ErrorCodes.NON_EMPTY_GROUP, coordinator.deleteGroup("g", 1));
        assertEquals(-1, heartbeat("a", -1, null, 2).memberEpoch());
        assertEquals(ShareGroupCoordinator.STATE_EMPTY, coordinator.describe("g", 3).state());
        assertEquals(ErrorCodes.NONE, coordinator.deleteGroup("g", 3));
        assertFalse(coordinator.isShareGroup("g"));
    }
}
