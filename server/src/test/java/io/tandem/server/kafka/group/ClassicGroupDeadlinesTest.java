package io.tandem.server.kafka.group;

import io.tandem.server.kafka.group.GroupMessages.JoinRequest;
import io.tandem.server.kafka.group.GroupMessages.JoinResult;
import io.tandem.server.kafka.group.GroupMessages.LeavingMember;
import io.tandem.server.kafka.group.GroupMessages.Protocol;
import io.tandem.server.kafka.group.GroupMessages.SyncRequest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static io.tandem.server.kafka.ErrorCodes.NONE;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * The classic groups' deadlines are ordered entries ({@link GroupDeadlines}), not a scan: a heartbeat must move its
 * member's entry (cancel the old deadline), so the group timer, which sleeps until {@link
 * GroupCoordinator#nextDeadlineMs}, is told the new one and the old one fires nothing; and entries go with the members
 * and groups they belong to.
 */
class ClassicGroupDeadlinesTest {
    private static final int SESSION_MS = 10_000;
    private static final int REBALANCE_MS = 30_000;
    private final GroupCoordinator coordinator = new GroupCoordinator(
            GroupConfig.defaults().withInitialRebalanceDelayMs(0), GroupStore.IN_MEMORY);
    private long now = 1_000;

    private JoinResult join(String groupId, String memberId) {
        AtomicReference<JoinResult> result = new AtomicReference<>();
        coordinator.joinGroup(new JoinRequest(groupId, memberId, null, "client", "/127.0.0.1", SESSION_MS,
                REBALANCE_MS, "consumer", List.of(new Protocol("range", new byte[0])), false), now, result::set);
        return result.get();
    }

    private void sync(String groupId, JoinResult joined) {
        coordinator.syncGroup(new SyncRequest(groupId, joined.generationId(), joined.memberId(), null, "consumer", null,
                Map.of()), now, result -> assertEquals(NONE, result.error()));
    }

    /** One member, joined and synced at {@link #now}: Stable, its session the only deadline. */
    private String stableMember(String groupId) {
        JoinResult joined = join(groupId, "");
        assertEquals(NONE, joined.error());
        sync(groupId, joined);
        assertEquals(GroupState.STABLE, coordinator.group(groupId).state);
        return joined.memberId();
    }

    @Test
    void shouldNotFireASessionDeadlineAHeartbeatCancelled() {
        String member = stableMember("g");
        long firstDeadline = now + SESSION_MS;
        assertEquals(firstDeadline, coordinator.nextDeadlineMs());

        now += SESSION_MS - 1_000;
        assertEquals(NONE, coordinator.heartbeat("g", member, null, 1, now));
        long movedDeadline = now + SESSION_MS;
        // Were the old entry left in place, the timer would be told the old deadline here and wake for it.
        assertEquals(movedDeadline, coordinator.nextDeadlineMs(), "the heartbeat moved the session deadline");
        assertEquals(1, coordinator.deadlineEntries(), "moved, not added");

        coordinator.tick(firstDeadline);
        assertNotNull(coordinator.group("g").member(member), "the cancelled deadline expired nobody");
        assertEquals(GroupState.STABLE, coordinator.group("g").state);
        assertEquals(movedDeadline, coordinator.nextDeadlineMs());

        coordinator.tick(movedDeadline - 1);
        assertNotNull(coordinator.group("g").member(member), "not a millisecond early");
        coordinator.tick(movedDeadline);
        assertNull(coordinator.group("g").member(member), "expired on the moved deadline");
        assertEquals(Long.MAX_VALUE, coordinator.nextDeadlineMs());
    }

    @Test
    void shouldFireOnlyTheDueGroupAmongMany() {
        List<String> members = new ArrayList<>();
        for (int i = 0; i < 50; i++) {
            members.add(stableMember("g" + i));
            now += 10;
        }
        // g0's session ends first; everyone else heartbeats just before it.
        now = 1_000 + SESSION_MS - 1;
        for (int i = 1; i < 50; i++) assertEquals(NONE, coordinator.heartbeat("g" + i, members.get(i), null, 1, now));
        coordinator.tick(1_000 + SESSION_MS);
        assertEquals(GroupState.EMPTY, coordinator.group("g0").state);
        for (int i = 1; i < 50; i++) assertEquals(GroupState.STABLE, coordinator.group("g" + i).state, "g" + i);
        assertEquals(now + SESSION_MS, coordinator.nextDeadlineMs());
    }

    @Test
    void shouldDropTheEntriesOfMembersThatLeaveAndOfGroupsThatGo() {
        String a = stableMember("g");
        String b = stableMember("h");
        assertEquals(2, coordinator.deadlineEntries());
        coordinator.leaveGroup("g", List.of(new LeavingMember(a, null)), now);
        coordinator.leaveGroup("h", List.of(new LeavingMember(b, null)), now);
        assertEquals(0, coordinator.deadlineEntries(), "no entry outlives its member");
        assertEquals(Long.MAX_VALUE, coordinator.nextDeadlineMs());

        String c = stableMember("k");
        assertEquals(1, coordinator.deadlineEntries());
        coordinator.unloadPartition(OffsetsTopicCodec.partitionFor("k", 50), 50);
        assertEquals(0, coordinator.deadlineEntries(), "no entry outlives its group: " + c);
    }
}
