package io.tandem.server.kafka.group.consumer;

import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatRequest;
import io.tandem.server.kafka.group.consumer.ConsumerGroupCoordinator.HeartbeatResult;
import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

/**
 * KIP-848 members' deadlines are ordered entries, one per member: a ConsumerGroupHeartbeat moves its member's entry,
 * so the group timer is told the new deadline and the old one fences nobody; a member that leaves takes its entry.
 */
class ConsumerGroupDeadlinesTest extends ConsumerGroupFixture {
    private static final int SESSION_MS = 45_000;

    ConsumerGroupDeadlinesTest() {
        start(new ConsumerGroupConfig(SESSION_MS, 5_000, 3, ConsumerGroupConfig.KNOWN_ASSIGNORS));
    }

    private HeartbeatResult beat(String memberId, int epoch, List<String> topicNames) {
        return coordinator.heartbeat(new HeartbeatRequest("g", memberId, epoch, null, null, epoch == 0 ? 30_000 : -1,
                topicNames, null, null, epoch == 0 ? List.of() : null, "client", "/127.0.0.1", (short) 1), now);
    }

    @Test
    void shouldNotFenceAtASessionDeadlineAHeartbeatCancelled() {
        topic("t", 2);
        HeartbeatResult joined = beat("a", 0, List.of("t"));
        long firstDeadline = now + SESSION_MS;
        assertEquals(firstDeadline, classic.nextDeadlineMs());

        now += SESSION_MS - 1_000;
        beat("a", joined.memberEpoch(), null);
        long movedDeadline = now + SESSION_MS;
        // Were the old entry left in place, the timer would be told the old deadline here and wake for it.
        assertEquals(movedDeadline, classic.nextDeadlineMs(), "the heartbeat moved the session deadline");
        assertEquals(1, coordinator.deadlineEntries(), "moved, not added");

        classic.tick(firstDeadline);
        assertNotNull(coordinator.readState("g", "a"), "the cancelled deadline fenced nobody");
        classic.tick(movedDeadline - 1);
        assertNotNull(coordinator.readState("g", "a"), "not a millisecond early");
        classic.tick(movedDeadline);
        assertNull(coordinator.readState("g", "a"), "fenced on the moved deadline");
        assertEquals(0, coordinator.deadlineEntries());
        assertEquals(Long.MAX_VALUE, classic.nextDeadlineMs());
    }

    @Test
    void shouldDropTheEntryOfAMemberThatLeaves() {
        topic("t", 2);
        beat("a", 0, List.of("t"));
        beat("b", 0, List.of("t"));
        assertEquals(2, coordinator.deadlineEntries());
        beat("a", ConsumerGroupCoordinator.LEAVE_GROUP_MEMBER_EPOCH, null);
        assertEquals(1, coordinator.deadlineEntries(), "no entry outlives its member");
    }
}
