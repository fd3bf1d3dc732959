package io.tandem.server.kafka.group;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class DeadlineQueueTest {
    @Test
    void shouldPollDueOwnersEarliestFirstAndKeepTheRest() {
        DeadlineQueue<String> queue = new DeadlineQueue<>();
        queue.schedule("c", 30);
        queue.schedule("a", 10);
        queue.schedule("b", 20);
        queue.schedule("b2", 20);
        assertEquals(10, queue.earliestMs());
        assertEquals(List.of("a", "b", "b2"), queue.pollDue(20), "equal deadlines in the order they were set");
        assertEquals(30, queue.earliestMs());
        assertEquals(1, queue.size());
        assertTrue(queue.pollDue(29).isEmpty());
    }

    @Test
    void shouldMoveAnOwnersDeadlineInsteadOfAddingASecondOne() {
        DeadlineQueue<String> queue = new DeadlineQueue<>();
        queue.schedule("member", 10);
        queue.schedule("member", 50); // a heartbeat: the session timeout starts again
        assertEquals(1, queue.size());
        assertEquals(50, queue.earliestMs());
        assertTrue(queue.pollDue(49).isEmpty(), "the replaced deadline does not fire");
        assertEquals(List.of("member"), queue.pollDue(50));
        assertEquals(0, queue.size());
        assertEquals(Long.MAX_VALUE, queue.earliestMs());
    }

    @Test
    void shouldCancelOnRequestAndOnANeverDeadline() {
        DeadlineQueue<String> queue = new DeadlineQueue<>();
        queue.schedule("a", 10);
        queue.schedule("b", 20);
        queue.schedule("c", Long.MIN_VALUE);
        queue.cancel("a");
        queue.schedule("b", Long.MAX_VALUE);
        assertEquals(Long.MAX_VALUE, queue.deadlineOf("b"));
        assertEquals(List.of("c"), queue.pollDue(Long.MAX_VALUE - 1));
        assertEquals(0, queue.size());
    }

    @Test
    void shouldTellOwnersApartByIdentity() {
        DeadlineQueue<String> queue = new DeadlineQueue<>();
        String one = new String("m");
        String two = new String("m");
        queue.schedule(one, 10);
        queue.schedule(two, 20);
        assertEquals(2, queue.size(), "two members that happen to hold the same id are two owners");
    }
}
